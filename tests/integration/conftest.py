"""Integration-test harness: starts the real bk-processor and bk-ingress against the PostgreSQL and Kafka
that `./bk test` brought up, hands tests an HTTP client, a database handle and a Kafka probe, and checks
that every process exits cleanly (exit code 0, no sanitizer report) when the session ends.

Environment (set by `./bk test`): BK_BIN_DIR, BK_PG_DSN, BK_KAFKA_BROKERS, BK_HTTP_PORT, BK_ID_SECRET,
BK_STATIC_DIR, BK_STATE_DIR. Service logs go to $BK_STATE_DIR/logs/itest-<session>-<n>-<program>.log, one
file per process start (<session> is the start time and pid of this pytest run, so runs never overwrite
each other's logs).
"""

import atexit
import contextlib
import os
import re
import signal
import subprocess
import time
import types
from pathlib import Path

import pytest
import requests

import helpers
from helpers import SEATS, Api, Db, Drainer, KafkaProbe, wait_until

REQUIRED_ENV = ("BK_BIN_DIR", "BK_PG_DSN", "BK_KAFKA_BROKERS", "BK_HTTP_PORT", "BK_ID_SECRET",
                "BK_STATIC_DIR", "BK_STATE_DIR")

HEALTH_TIMEOUT = 30.0  # ingress: GET /health -> 200
# Processor: first partition assignment. After a kill -9 the broker only hands the partitions to the
# new member once the dead one's session expired (librdkafka's default session.timeout.ms is 45 s).
ASSIGN_TIMEOUT = 120.0
STOP_TIMEOUT = 30.0  # SIGTERM -> exit

# A sanitizer report makes the run fail even when the exit code would not say so (UBSan continues by
# default and exits 0).
SANITIZER_RE = re.compile(r"(ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:|UndefinedBehaviorSanitizer)")


def pytest_configure(config):
    config.addinivalue_line("markers", "happy: happy-path tests, also run against the sanitizer build")


class Service:
    """One of our programs, run as a child process with stdout+stderr in a log file per start."""

    log_prefix = "itest"  # log files: <prefix>-<session>-<nn>-<name>.log

    def __init__(self, name, binary, env, log_dir, session, counter):
        self.name = name
        self.binary = binary
        self.env = env
        self.log_dir = log_dir
        self.session = session
        self.counter = counter  # shared across services: log file numbers follow start order
        self.proc = None
        self.log_path = None
        self.log_file = None
        self.expected_exit = True  # not running yet: nothing unexpected about that

    def start(self):
        assert not self.running(), f"{self.name} is already running (pid {self.proc.pid})"
        self.counter[0] += 1
        self.log_path = self.log_dir / f"{self.log_prefix}-{self.session}-{self.counter[0]:02d}-{self.name}.log"
        self.log_file = open(self.log_path, "wb")
        self.proc = subprocess.Popen([str(self.binary)], env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=self.log_file, stderr=subprocess.STDOUT)
        self.expected_exit = False
        _children.add(self.proc)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")

    def tail(self, n_lines=40):
        lines = self.log().splitlines()[-n_lines:]
        return f"--- last {len(lines)} lines of {self.log_path} ---\n" + "\n".join(lines)

    def describe_exit(self):
        return f"{self.name} (pid {self.proc.pid}) exited with {self.proc.returncode}\n{self.tail()}"

    def wait_for_log(self, pattern, timeout, what):
        """Poll this start's log for a regex, failing early if the process dies."""
        regex = re.compile(pattern)

        def seen():
            if regex.search(self.log()):
                return True
            if not self.running():
                raise AssertionError(f"{self.name} died while waiting for {what}: {self.describe_exit()}")
            return False

        wait_until(seen, timeout, f"{self.name} to log {what}", interval=0.05, detail=self.tail)

    def sanitizer_report(self):
        match = SANITIZER_RE.search(self.log())
        return match is not None

    def _finish(self):
        if self.log_file is not None:
            self.log_file.close()
            self.log_file = None
        _children.discard(self.proc)
        self.expected_exit = True

    def stop(self):
        """SIGTERM, bounded wait, and assert a clean exit: code 0 and no sanitizer report."""
        if self.proc is None:
            return
        if self.proc.poll() is not None:
            unexpected = not self.expected_exit
            self._finish()
            assert not unexpected, f"crashed: {self.describe_exit()}"
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self._finish()
            raise AssertionError(f"{self.name} did not exit within {STOP_TIMEOUT:g}s of SIGTERM\n{self.tail()}")
        self._finish()
        assert self.proc.returncode == 0, f"unclean shutdown: {self.describe_exit()}"
        assert not self.sanitizer_report(), f"sanitizer report in {self.log_path}\n{self.tail(80)}"

    def kill9(self):
        """kill -9, as a crash would. Only a sanitizer report already in the log fails here."""
        assert self.running(), f"{self.name} is not running: {self.describe_exit()}"
        self.expected_exit = True
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._finish()
        assert self.proc.returncode == -signal.SIGKILL, self.describe_exit()
        assert not self.sanitizer_report(), f"sanitizer report in {self.log_path}\n{self.tail(80)}"


# Every request of the suite comes from 127.0.0.1, and no address is exempt from the per-client limits:
# the suite's ingresses run without them (tests/integration/test_limits.py starts its own strict one).
NO_CLIENT_LIMITS = {"BK_RATE_PER_S": "0", "BK_CONNS_PER_CLIENT": "0"}


def start_ingress(cfg, log_dir, offset, name, **env):
    """Another bk-ingress beside the suite's own (another instance behind the load balancer) on
    BK_HTTP_PORT + offset, with the suite's environment (no per-client limits) plus env; returns (base url, Service) once it
    answers /health (200 or 503: tests that need it healthy wait for that themselves)."""
    port = int(cfg["BK_HTTP_PORT"]) + offset
    full_env = dict(os.environ, BK_HTTP_PORT=str(port), BK_LOG_LEVEL="info", **NO_CLIENT_LIMITS)
    full_env.update(env)
    ingress = Service("bk-ingress", os.path.join(cfg["BK_BIN_DIR"], "bk-ingress"), full_env, Path(log_dir), name,
                      [0])
    ingress.start()
    base = f"http://127.0.0.1:{port}"

    def answering():
        if not ingress.running():
            raise AssertionError(f"the {name} ingress died: {ingress.describe_exit()}")
        try:
            return requests.get(base + "/health", timeout=2).status_code in (200, 503)
        except requests.ConnectionError:
            return False

    wait_until(answering, 30, f"the {name} ingress to answer", detail=ingress.tail)
    return base, ingress


def wait_healthy(base, ingress, what="the ingress"):
    """Waits until GET /health on base answers 200."""
    def healthy():
        try:
            return requests.get(base + "/health", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False
    wait_until(healthy, 30, f"{what} to be healthy", detail=ingress.tail)


# Children still running when the interpreter exits (pytest interrupted, an error mid-session) are
# killed so they never hold the ports for the next run.
_children = set()


@atexit.register
def _kill_leftovers():
    for proc in list(_children):
        if proc.poll() is None:
            proc.kill()


class Stack:
    """bk-processor + bk-ingress, started and stopped by the tests."""

    def __init__(self, cfg):
        self.cfg = cfg
        log_dir = Path(cfg["BK_STATE_DIR"]) / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env["BK_LOG_LEVEL"] = "info"
        for name, value in NO_CLIENT_LIMITS.items():
            env.setdefault(name, value)
        # The processor's metrics port, next to the ingress's, so a dev stack's processor never answers.
        env.setdefault("BK_METRICS_PORT", str(int(cfg["BK_HTTP_PORT"]) + 1))
        self.metrics_url = f"http://127.0.0.1:{env['BK_METRICS_PORT']}/metrics"
        session = time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}"
        counter = [0]
        bin_dir = Path(cfg["BK_BIN_DIR"]).resolve()
        # The processor never signs ids: it runs without the secret, as it may in production.
        processor_env = {name: value for name, value in env.items() if name != "BK_ID_SECRET"}
        self.processor = Service("bk-processor", bin_dir / "bk-processor", processor_env, log_dir, session, counter)
        self.ingress = Service("bk-ingress", bin_dir / "bk-ingress", env, log_dir, session, counter)
        self.base_url = f"http://127.0.0.1:{cfg['BK_HTTP_PORT']}"

    def start_processor(self):
        self.processor.start()
        self.processor.wait_for_log(r"event=partitions_assigned", ASSIGN_TIMEOUT, "event=partitions_assigned")

    def start_ingress(self):
        self.ingress.start()
        self.wait_healthy()

    def wait_healthy(self, timeout=HEALTH_TIMEOUT):
        last = {}

        def healthy():
            if not self.ingress.running():
                raise AssertionError(f"bk-ingress died before it was healthy: {self.ingress.describe_exit()}")
            try:
                resp = requests.get(self.base_url + "/health", timeout=2)
            except requests.RequestException as exc:
                last["seen"] = repr(exc)
                return False
            last["seen"] = f"{resp.status_code} {resp.text[:200]!r}"
            return resp.status_code == 200

        wait_until(healthy, timeout, f"GET {self.base_url}/health to answer 200", interval=0.1,
                   detail=lambda: f"last answer: {last.get('seen')}\n{self.ingress.tail()}")

    def restart_processor(self):
        self.processor.stop()
        self.start_processor()

    def restart_ingress(self):
        self.ingress.stop()
        self.start_ingress()

    def ensure_running(self):
        # The ingress does not need the processor to be healthy, but tests do: start it first.
        if not self.processor.running():
            self.start_processor()
        if not self.ingress.running():
            self.start_ingress()

    def crash_guard(self, what):
        """For helpers.wait_until: stop waiting for `what` as soon as a service died on its own."""
        for service in (self.processor, self.ingress):
            if service.proc is not None and not service.expected_exit and service.proc.poll() is not None:
                service._finish()  # reported here; check_alive need not report it again
                raise AssertionError(f"{service.name} crashed while waiting for {what}: {service.describe_exit()}")

    def check_alive(self):
        """Fail if a service died without a test asking for it (a crash is always a bug)."""
        dead = [s for s in (self.processor, self.ingress) if not s.running() and not s.expected_exit]
        for service in dead:
            service._finish()
        assert not dead, "crashed during the test:\n" + "\n".join(s.describe_exit() for s in dead)

    def stop_all(self):
        errors = []
        for service in (self.ingress, self.processor):  # reverse of start order
            try:
                service.stop()
            except AssertionError as exc:
                errors.append(str(exc))
        assert not errors, "\n".join(errors)


# --- fixtures ----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def cfg():
    missing = [name for name in REQUIRED_ENV if not os.environ.get(name)]
    if missing:
        pytest.exit(f"integration tests need {', '.join(missing)} in the environment (run them with ./bk test)",
                    returncode=2)
    bin_dir = Path(os.environ["BK_BIN_DIR"])
    for program in ("bk-ingress", "bk-processor"):
        if not os.access(bin_dir / program, os.X_OK):
            pytest.exit(f"{bin_dir / program} is missing or not executable (BK_BIN_DIR={bin_dir})", returncode=2)
    return {name: os.environ[name] for name in REQUIRED_ENV}


@pytest.fixture(scope="session")
def db(cfg):
    handle = Db(cfg["BK_PG_DSN"])
    yield handle
    handle.close()


@pytest.fixture(scope="session")
def kafka(cfg):
    """The Kafka probe, or None when confluent-kafka cannot be imported (tests needing it skip)."""
    try:
        import confluent_kafka  # noqa: F401
    except ImportError:
        yield None
        return
    probe = KafkaProbe(cfg["BK_KAFKA_BROKERS"])
    yield probe
    probe.close()


@pytest.fixture(scope="session")
def drain(db, kafka):
    return Drainer(db, kafka)


@pytest.fixture(scope="session")
def stack(cfg, db, drain):
    stack = Stack(cfg)
    helpers.WAIT_GUARDS.append(stack.crash_guard)
    stack.ensure_running()  # on failure, the atexit hook kills whatever did start
    yield stack
    # Leave the database as seeded for whatever runs next (browser tests, a second run), once every
    # promised booking is applied; then stop the services and insist on a clean exit.
    try:
        if stack.processor.running():
            drain(timeout=30)
            for tier, seats in SEATS.items():
                db.delete_bookings(tier)
                db.set_tier(tier, seats, seats)
    finally:
        stack.stop_all()


@pytest.fixture(autouse=True)
def services(stack):
    """Every test starts with both services up and ends with neither having crashed."""
    stack.ensure_running()
    yield stack
    stack.check_alive()


@pytest.fixture
def api(stack):
    client = Api(stack.base_url)
    yield client
    client.session.close()


@pytest.fixture
def reset_tier(db, drain):
    """reset_tier(tier, capacity=seeded, available=capacity): waits until every message already in the
    topic is applied (so no earlier booking can land after the reset), then sets the tier and deletes its
    bookings."""

    def reset(tier, capacity=None, available=None):
        capacity = SEATS[tier] if capacity is None else capacity
        available = capacity if available is None else available
        drain()
        db.set_tier(tier, capacity, available)
        db.delete_bookings(tier)
        assert db.tier(tier) == (capacity, available)

    return reset


@pytest.fixture
def need_kafka(kafka):
    if kafka is None:
        pytest.skip("confluent-kafka is not importable: cannot read watermarks or produce raw messages")
    return kafka


@pytest.fixture
def unchanged(db, kafka, drain):
    """`with unchanged() as check:` around a request that must change nothing (a refused request publishes
    nothing, and bad input changes nothing). Afterwards the topic's high watermarks are where they were
    and, once the processor applied everything, tiers and the booking count are too. Set
    check.active = False inside the block when the request turned out to be legitimately accepted."""

    @contextlib.contextmanager
    def guard():
        drain()
        check = types.SimpleNamespace(active=True)
        before = db.snapshot()
        high = kafka.high_watermarks() if kafka is not None else None
        yield check
        if not check.active:
            return
        if kafka is not None:
            assert kafka.high_watermarks() == high, "a refused request published a message"
        drain()
        assert db.snapshot() == before, "a refused request changed the database"

    return guard
