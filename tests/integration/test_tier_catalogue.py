"""The tier catalogue has one home, the tiers table: both services read it at start, refuse a topic
whose partitions are not one per tier, wait (and say so) for a database they cannot read, and price
a booking from it alike in replies and in stored rows."""

import os
import signal
import subprocess
from pathlib import Path

from conftest import STOP_TIMEOUT, Service
from helpers import PRICE, json_body, wait_until


def _service(cfg, stack, binary, name, **env):
    full_env = dict(os.environ, BK_LOG_LEVEL="info", BK_RATE_PER_S="0", BK_CONNS_PER_CLIENT="0",
                    BK_HTTP_PORT=str(int(cfg["BK_HTTP_PORT"]) + 2), BK_METRICS_PORT=str(int(cfg["BK_HTTP_PORT"]) + 2))
    full_env.update(env)
    log_dir = Path(cfg["BK_STATE_DIR"]) / "logs"
    return Service(binary, Path(cfg["BK_BIN_DIR"]).resolve() / binary, full_env, log_dir, name, [0])


def _stop(service):
    """SIGTERM a service that may still be starting; returns its exit code."""
    if service.proc.poll() is None:
        service.proc.send_signal(signal.SIGTERM)
        try:
            service.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            service.proc.kill()
            service.proc.wait(timeout=10)
            raise AssertionError(f"{service.name} did not exit within {STOP_TIMEOUT:g}s of SIGTERM\n{service.tail()}")
    service._finish()
    return service.proc.returncode


def test_a_topic_without_one_partition_per_tier_is_a_startup_error(cfg, stack, db):
    """A fourth tier in the catalogue, a topic of three partitions: neither service starts."""
    db.conn.execute("INSERT INTO tiers (tier, name, position, price_cents, capacity, available)"
                    " VALUES ('BALCONY', 'Balcony', 3, 2500, 10, 10)")
    try:
        for binary in ("bk-ingress", "bk-processor"):
            service = _service(cfg, stack, binary, f"catalogue-{binary}")
            service.start()
            try:
                wait_until(lambda: service.proc.poll() is not None, 60, f"{binary} to refuse the topic",
                           detail=service.tail)
            finally:
                code = _stop(service)
            assert code != 0, service.tail()
            log = service.log()
            assert "event=tiers_loaded count=4" in log, log
            assert "the topic has 3 partitions but the tier catalogue has 4 tiers" in log, log
    finally:
        db.conn.execute("DELETE FROM tiers WHERE tier = 'BALCONY'")


def test_an_unreadable_catalogue_is_waited_for_never_guessed(cfg, stack):
    """No database: the service retries with a bounded backoff and logs it; it never serves."""
    closed_port = int(cfg["BK_HTTP_PORT"]) + 3  # in our range, nothing listens there
    dsn = f"postgresql://booking:booking@127.0.0.1:{closed_port}/booking?connect_timeout=2"
    for binary in ("bk-ingress", "bk-processor"):
        service = _service(cfg, stack, binary, f"nodb-{binary}", BK_PG_DSN=dsn)
        service.start()
        try:
            service.wait_for_log(r"event=tiers_unavailable attempt=3 retry_ms=400 ", 30, "the third attempt")
            assert service.running(), service.tail()
            assert "event=tiers_loaded" not in service.log()
            assert "event=listening" not in service.log() and "event=partitions_assigned" not in service.log()
        finally:
            _stop(service)


def test_replies_and_rows_price_a_booking_from_the_catalogue(stack, api, db, drain, reset_tier):
    """Change a price in the tiers table and restart: the reply and the stored row agree on it."""
    reset_tier("VIP")
    old = PRICE["VIP"]
    new = old + 2345
    db.conn.execute("UPDATE tiers SET price_cents = %s WHERE tier = 'VIP'", (new,))
    try:
        stack.restart_processor()
        stack.restart_ingress()
        tickets = json_body(api.tickets(), 200)
        assert [t["price_cents"] for t in tickets if t["tier"] == "VIP"] == [new], tickets
        accepted = api.accepted("VIP", 2)
        final = api.wait_final(accepted["booking_id"])
        assert final["status"] == "confirmed", final
        assert final["amount_cents"] == 2 * new, final
        row = db.rows([accepted["booking_id"]])[accepted["booking_id"]]
        assert row.amount_cents == 2 * new, row
    finally:
        db.conn.execute("UPDATE tiers SET price_cents = %s WHERE tier = 'VIP'", (old,))
        stack.restart_processor()
        stack.restart_ingress()
