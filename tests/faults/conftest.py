"""Fixtures of the fault-injection scenarios; the harness itself is fault_helpers.py (which reuses
tests/integration's). Run with the stack's environment exported, e.g. after `bk_load_env test` or
`eval "$(./bk env)"`: `python -m pytest -q tests/faults`."""

import os
from pathlib import Path

import pytest

from fault_helpers import REQUIRED_ENV, SEEDED, SETTLE_TIMEOUT, FaultDb, Fleet, Infra, Ledger, Scenario, helpers
from helpers import Drainer, KafkaProbe


# --- fixtures ----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def cfg():
    missing = [name for name in REQUIRED_ENV if not os.environ.get(name)]
    if missing:
        pytest.exit(f"fault tests need {', '.join(missing)} in the environment (export `bk_load_env test`, "
                    "or eval \"$(./bk env)\")", returncode=2)
    bin_dir = Path(os.environ["BK_BIN_DIR"])
    for program in ("bk-ingress", "bk-processor"):
        if not os.access(bin_dir / program, os.X_OK):
            pytest.exit(f"{bin_dir / program} is missing or not executable (BK_BIN_DIR={bin_dir})", returncode=2)
    return {name: os.environ[name] for name in REQUIRED_ENV}


@pytest.fixture(scope="session")
def infra(cfg):
    handle = Infra(cfg)
    handle.ensure_up()
    return handle


@pytest.fixture(scope="session")
def db(cfg, infra):
    handle = FaultDb(cfg["BK_PG_DSN"])
    yield handle
    handle.close()


@pytest.fixture(scope="session")
def kafka(cfg, infra):
    probe = KafkaProbe(cfg["BK_KAFKA_BROKERS"])
    yield probe
    probe.close()


@pytest.fixture(scope="session")
def drain(db, kafka):
    return Drainer(db, kafka)


@pytest.fixture(scope="session")
def fleet(cfg, infra, db, drain):
    """The services, started once; the database starts (after everything earlier in the topic is
    applied) and ends as seeded, so whatever runs before or after sees the usual state."""
    fleet = Fleet(cfg)
    helpers.WAIT_GUARDS.append(fleet.crash_guard)
    fleet.ensure_running()
    drain(timeout=SETTLE_TIMEOUT)
    _reset_seeded(db)
    yield fleet
    try:
        infra.ensure_up()
        if fleet.processor.running():
            drain(timeout=SETTLE_TIMEOUT)
            _reset_seeded(db)
    finally:
        helpers.WAIT_GUARDS.remove(fleet.crash_guard)
        fleet.stop_all()


def _reset_seeded(db):
    db.execute("DELETE FROM bookings")
    for tier, seats in SEEDED.items():
        db.set_tier(tier, seats, seats)


@pytest.fixture(scope="session")
def ledger():
    return Ledger()


@pytest.fixture
def scenario(request, fleet, db, kafka, drain, ledger, infra):
    """A Scenario named after the test. The infrastructure is up again afterwards even if it failed."""
    name = request.node.name.removeprefix("test_")
    sc = Scenario(name, fleet, db, kafka, drain, ledger, infra)
    yield sc
    for load in sc.loads:
        load.stopping.set()
    infra.ensure_up()
    fleet.stop_extra()
