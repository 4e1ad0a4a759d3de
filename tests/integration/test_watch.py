"""Long-polls (?wait) and the watch's LISTEN connection (ingress/watch.c): when the PostgreSQL backend that
runs LISTEN bk_decided goes away (pg_terminate_backend, as a failover or an administrator would), the watch
listens again on a new connection and asks the database about what it may have missed, so every long-poll
still ends in time with the final outcome. Each test runs its own ingress beside the suite's
(BK_HTTP_PORT + 2), so only that ingress's backends are terminated."""

import signal
import threading
import time
import urllib.parse

import pytest
import requests

from conftest import start_ingress, wait_healthy
import helpers
from helpers import JSON_CT, wait_until

WATCH_QUERY = "query LIKE 'LISTEN bk_decided%%' OR query LIKE '%%booking_id = ANY%%'"
RECHECK_S = 2.0  # ingress/watch.c RECHECK_MS: waiters this old are looked up in the database


@pytest.fixture
def own_ingress(cfg, tmp_path):
    base, ingress = start_ingress(cfg, tmp_path, 2, "watch")
    wait_healthy(base, ingress, "the second ingress")
    yield base, ingress
    if ingress.running() and ingress_state(ingress.proc.pid) == "T":
        ingress.proc.send_signal(signal.SIGCONT)
    ingress.stop()


def pg_port(cfg):
    return urllib.parse.urlparse(cfg["BK_PG_DSN"]).port


def ingress_state(pid):
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0]



def listen_backend(db, ingress, pg_port):
    """The pid of the backend serving the ingress's watch connection (LISTEN, then its rechecks), or None."""
    ports = helpers.client_ports(ingress.proc.pid, int(pg_port))
    if not ports:
        return None
    row = db.one(f"SELECT pid FROM pg_stat_activity WHERE client_port = ANY(%s) AND ({WATCH_QUERY})",
                 (list(ports),))
    return row[0] if row else None


def listening_again(db, ingress, pg_port, old):
    """A new backend runs LISTEN for the ingress (the old one is gone)."""
    pid = listen_backend(db, ingress, pg_port)
    return pid is not None and pid != old and pid


def terminate(db, pid):
    db.one("SELECT pg_terminate_backend(%s)", (pid,))
    wait_until(lambda: db.one("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,))[0] == 0, 10,
               f"backend {pid} to be gone")


def book_wait(base, wait_ms, tier="GA"):
    resp = requests.post(base + "/book", params={"wait": wait_ms}, json={"tier": tier, "quantity": 1},
                         headers={"Content-Type": JSON_CT}, timeout=wait_ms / 1000 + 10)
    return resp.status_code, resp.json()


def waiters(base):
    text = requests.get(base + "/metrics", timeout=5).text
    return float(next(line for line in text.splitlines() if line.startswith("bk_outcome_waiters")).split()[-1])



def test_long_polls_end_with_the_outcome_when_the_listen_backend_is_terminated(own_ingress, cfg, db, reset_tier):
    """A burst of POST /book?wait=3000 on 8 connections while the LISTEN backend is terminated 4 times:
    every long-poll ends with 200 and the final outcome (the processor decides in milliseconds)."""
    base, ingress = own_ingress
    reset_tier("GA")
    stopping = threading.Event()
    answers = []

    def sender():
        while not stopping.is_set():
            answers.append(book_wait(base, 3000))

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(8)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(4):
            pid = wait_until(lambda: listen_backend(db, ingress, pg_port(cfg)), 10, "the LISTEN backend")
            n = len(answers)
            wait_until(lambda: len(answers) >= n + 20, 30, "20 more long-polls answered")
            terminate(db, pid)
            wait_until(lambda: listening_again(db, ingress, pg_port(cfg), pid), 10, "a new LISTEN backend")
        n = len(answers)
        wait_until(lambda: len(answers) >= n + 20, 30, "20 more long-polls answered")
    finally:
        stopping.set()
        for thread in threads:
            thread.join(30)
    pending = [(status, body) for status, body in answers if status != 200 or body.get("status") == "pending"]
    assert not pending, f"{len(pending)} of {len(answers)} long-polls ended without the outcome: {pending[:5]}"


def test_a_watch_reconnected_by_a_recheck_listens_again(own_ingress, cfg, db, reset_tier):
    """The watch's recheck query (for waiters older than 2 s) finds the LISTEN connection dead and reconnects
    inside the read; the watch must notice it is on a new connection that never ran LISTEN, and listen again.
    Set up for certain: a waiter held old (GA locked, so no outcome comes), the ingress frozen while its LISTEN
    backend is terminated and until a recheck is due, then continued. Afterwards, long-polls shorter than the
    recheck age must still end with their outcome: only a notification can bring it in time."""
    base, ingress = own_ingress
    reset_tier("GA")
    reset_tier("FRONT_ROW")
    pid = wait_until(lambda: listen_backend(db, ingress, pg_port(cfg)), 10, "the LISTEN backend")
    old = {}
    with helpers.tier_locked(cfg["BK_PG_DSN"], "GA"):
        waiter = threading.Thread(target=lambda: old.update(answer=book_wait(base, 5000)), daemon=True)
        waiter.start()
        wait_until(lambda: waiters(base) >= 1, 10, "a long-poll waiting in the watch")
        added_at = time.monotonic()
        ingress.proc.send_signal(signal.SIGSTOP)
        try:
            wait_until(lambda: ingress_state(ingress.proc.pid) == "T", 5, "the ingress to be stopped")
            terminate(db, pid)
            # The fault lasts until the waiter is older than the recheck age, so the first thing the watch
            # does when it continues is a recheck on the dead connection (a duration, not a synchronisation).
            time.sleep(max(0.0, added_at + RECHECK_S + 0.5 - time.monotonic()))
        finally:
            ingress.proc.send_signal(signal.SIGCONT)
        wait_until(lambda: listen_backend(db, ingress, pg_port(cfg)) not in (None, pid), 10,
                   "the watch to connect again")
    waiter.join(15)
    assert old.get("answer", (None,))[0] in (200, 202), old

    answers = [book_wait(base, 1500, tier="FRONT_ROW") for _ in range(5)]
    pending = [(status, body) for status, body in answers if status != 200 or body.get("status") == "pending"]
    assert not pending, f"{len(pending)} of 5 long-polls ended without the outcome: {pending}"


def test_a_frozen_ingress_does_not_pin_the_notification_queue(own_ingress, cfg, db):
    """A LISTEN session whose client never reads (the ingress frozen by SIGSTOP, or its watch thread stuck)
    holds PostgreSQL's notification queue for every session: its backend blocks writing to a full socket and
    the queue's tail cannot pass it. The server itself ends such a session (tcp_user_timeout on our sessions,
    docs/running.md "Database timeouts"), and the ingress listens again when it continues."""
    base, ingress = own_ingress
    pid = wait_until(lambda: listen_backend(db, ingress, pg_port(cfg)), 10, "the LISTEN backend")
    ingress.proc.send_signal(signal.SIGSTOP)
    try:
        wait_until(lambda: ingress_state(ingress.proc.pid) == "T", 5, "the ingress to be stopped")
        # About 10 MB of announcements made only of empty lines (which every ingress skips), distinct so that
        # PostgreSQL does not fold them: more than the frozen client's socket buffers hold.
        db.one("SELECT count(pg_notify('bk_decided', repeat(E'\\n', 6000 + g))) FROM generate_series(1, 1500) g")
        wait_until(lambda: db.one("SELECT wait_event FROM pg_stat_activity WHERE pid = %s", (pid,)) == ("ClientWrite",),
                   30, "the LISTEN backend to block writing to the frozen ingress")
        wait_until(lambda: db.one("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,))[0] == 0, 60,
                   "PostgreSQL to end the session of the frozen ingress",
                   detail=lambda: str(db.one("SELECT state, wait_event, now() - state_change FROM pg_stat_activity "
                                             "WHERE pid = %s", (pid,))))
    finally:
        ingress.proc.send_signal(signal.SIGCONT)
    wait_until(lambda: listening_again(db, ingress, pg_port(cfg), pid), 15, "the ingress to listen again")
    status, body = book_wait(base, 3000, tier="GA")
    assert status == 200 and body.get("status") in ("confirmed", "rejected"), (status, body)
