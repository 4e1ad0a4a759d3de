"""Graceful shutdown of the ingress (docs/running.md "Shutdown"): SIGTERM while clients keep their
keep-alive connections busy, as behind a load balancer during a rolling restart. No HTTP thread may
touch the publisher, the watch or the health monitor once they are freed (the sanitizer build finds
it), every request the ingress had received gets an HTTP answer, every suspended request too (its
202, or 503 when nothing was promised), and every promise is kept.

Each test starts its own ingress beside the suite's (BK_HTTP_PORT + 2), so it can stop it."""

import threading
import time

import pytest
import requests

from conftest import start_ingress, wait_healthy
import helpers
from helpers import JSON_CT, wait_until


@pytest.fixture
def own_ingress(cfg, tmp_path):
    """A second ingress on BK_HTTP_PORT + 2: (base url, Service). Stopped by the test itself."""
    base, ingress = start_ingress(cfg, tmp_path, 2, "shutdown")
    wait_healthy(base, ingress, "the second ingress")
    yield base, ingress
    if ingress.running():
        ingress.proc.kill()
        ingress.proc.wait(timeout=10)
    ingress._finish()



class Client(threading.Thread):
    """One keep-alive connection sending one kind of request in a loop until stopped; every request is
    recorded as (sent at, status or None, body or transport error)."""

    def __init__(self, base, kind, stopping, wait_ms=2000):
        super().__init__(daemon=True)
        self.base, self.kind, self.stopping, self.wait_ms = base, kind, stopping, wait_ms
        self.calls = []

    def one(self, session):
        if self.kind == "book":
            return session.post(self.base + "/book", json={"tier": "GA", "quantity": 1},
                                headers={"Content-Type": JSON_CT}, timeout=30)
        if self.kind == "book-wait":
            return session.post(self.base + "/book", params={"wait": self.wait_ms}, json={"tier": "GA", "quantity": 1},
                                headers={"Content-Type": JSON_CT}, timeout=30)
        return session.get(self.base + "/" + self.kind, timeout=30)

    def run(self):
        session = requests.Session()
        while not self.stopping.is_set():
            sent = time.monotonic()
            try:
                resp = self.one(session)
                body = resp.json() if resp.headers.get("Content-Type", "").startswith("application/json") else None
                self.calls.append((sent, resp.status_code, body, resp.headers.get("Retry-After")))
            except requests.RequestException as exc:
                self.calls.append((sent, None, repr(exc), None))
                # Nothing listens any more after a refused connection: stop instead of spinning.
                if isinstance(exc, requests.ConnectionError):
                    break
        session.close()


def check_answers(clients, signalled_at):
    """Every request sent before SIGTERM got an HTTP answer; every 503 is a JSON error with Retry-After.
    Returns the booking ids promised (202, or 200 from ?wait)."""
    promised = []
    for client in clients:
        for sent, status, body, retry_after in client.calls:
            if sent < signalled_at:
                assert status is not None, f"{client.kind} sent before SIGTERM got no answer: {body}"
            if status == 503:
                assert isinstance(body, dict) and body.get("error"), (client.kind, body)
                assert retry_after is not None, (client.kind, body)
            if client.kind.startswith("book") and status in (200, 202):
                promised.append(body["booking_id"])
            elif status is not None:
                assert status in (200, 503), (client.kind, status, body)
    return promised


@pytest.mark.happy
def test_sigterm_under_keepalive_load(own_ingress, db, reset_tier):
    """POST /book (some with ?wait), /metrics and /health on keep-alive connections, SIGTERM in the
    middle: the ingress exits 0 without a sanitizer report, every request sent before the signal was
    answered, and every booking promised is decided."""
    base, ingress = own_ingress
    reset_tier("GA")
    stopping = threading.Event()
    kinds = ["book", "book", "book-wait", "book-wait", "metrics", "metrics", "health"]
    clients = [Client(base, kind, stopping) for kind in kinds]
    for client in clients:
        client.start()
    try:
        wait_until(lambda: sum(1 for c in clients if c.kind.startswith("book") for call in c.calls
                               if call[1] in (200, 202)) >= 40, 30, "40 bookings accepted by the second ingress")
        signalled_at = time.monotonic()
        ingress.stop()  # SIGTERM; a clean exit: status 0, no sanitizer report
    finally:
        stopping.set()
        for client in clients:
            client.join(60)
    promised = check_answers(clients, signalled_at)
    db.wait_decided(promised, 60, "bookings promised by the ingress that was stopped")



def waiters(base):
    text = requests.get(base + "/metrics", timeout=5).text
    line = next(line for line in text.splitlines() if line.startswith("bk_outcome_waiters"))
    return float(line.split()[-1])


@pytest.mark.happy
def test_sigterm_answers_suspended_long_polls(own_ingress, cfg, db, reset_tier):
    """Long-polls suspended in the watch when SIGTERM comes are answered 202 (pending: the promise
    stands) instead of being cut off, and those bookings are decided once the processor can go on."""
    base, ingress = own_ingress
    reset_tier("GA")
    stopping = threading.Event()
    clients = [Client(base, "book-wait", stopping, wait_ms=5000) for _ in range(4)]
    with helpers.tier_locked(cfg["BK_PG_DSN"], "GA"):
        for client in clients:
            client.start()
        wait_until(lambda: waiters(base) >= 4, 30, "4 long-polls suspended in the watch")
        stopping.set()
        signalled_at = time.monotonic()
        ingress.stop()  # SIGTERM; a clean exit: status 0, no sanitizer report
        for client in clients:
            client.join(60)
    promised = check_answers(clients, signalled_at)
    answered = [call for c in clients for call in c.calls if call[0] < signalled_at]
    assert len(answered) >= 4 and all(status == 202 for _, status, _, _ in answered), answered
    db.wait_decided(promised, 60, "bookings promised by the ingress that was stopped")
