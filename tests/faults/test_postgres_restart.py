"""PostgreSQL stopped with `pg_ctl -m immediate` (a crash: WAL replay on the next start) and restarted with
`./bk up` (docs/design.md#outages): bookings are still accepted meanwhile, the processor stops, retries with backoff and
resumes by itself, and nothing is skipped or applied twice."""

import time

import pytest
import requests

from helpers import JSON_CT, wait_until


def test_postgres_restarted_immediate(scenario, fleet, db, infra):
    load = scenario.begin().load(rate=60)
    scenario.wait_decided(60, what="60 bookings decided before the database dies")
    pids = infra.pids()
    mark = fleet.processor.mark()
    scenario.snapshot()

    infra.stop_postgres_immediate()
    down_at = time.monotonic()
    assert not infra.pg_ready()
    # The processor notices, pauses and retries with a growing backoff (100, 200, 400, 800 ms ...).
    wait_until(lambda: fleet.processor.log_since(mark).count("event=batch_failed") >= 5, 30,
               "the processor to log event=batch_failed 5 times", interval=0.1, detail=fleet.processor.tail)
    # The broker is fine, so the ingress keeps its promises: they wait in Kafka.
    scenario.wait_answers(load, lambda a: a.promised and a.t0 > down_at, 20, 20,
                          "20 bookings accepted while PostgreSQL is down")

    restart_at = time.monotonic()
    infra.up()
    now = infra.pids()
    assert now["kafka"] == pids["kafka"], "./bk up restarted Kafka, which was running"
    assert now["postgres"] not in (None, pids["postgres"]), (pids, now)

    fleet.processor.wait_for_log_since(mark, r"event=resumed", 60, "event=resumed")
    fleet.wait_healthy(timeout=30)
    scenario.wait_decided(60, 60, "60 bookings decided after the restart")
    failed = len([1 for line in fleet.processor.log_since(mark).splitlines() if "event=batch_failed" in line])
    scenario.figures.update(down_s=round(restart_at - down_at, 1), batch_failed=failed)
    scenario.verify(allowed=(), read_retries=True)


def fresh_get(url):
    """One GET on a new connection, so consecutive calls spread over the ingress's HTTP threads."""
    with requests.Session() as session:
        resp = session.get(url, timeout=10)
        return resp.status_code, resp.text[:200]


def test_first_reads_after_postgres_restart_succeed(scenario, fleet, db, infra):
    """Once the database is back and GET /health says so, reads answer 200 at the first try.

    Regression (fixed in ingress/lookup.c): each ingress HTTP thread keeps its own PostgreSQL connection (http.c thread_db). After a restart
    that connection is dead, but libpq only finds out when a statement fails on it: bk_lookup_booking()
    and bk_lookup_tiers() call bk_db_connect() (PQstatus still CONNECTION_OK, so no reconnect), the
    statement fails, db.c fail() disconnects, and the request answers 503 "booking status unavailable" /
    "availability unavailable". Only the next request on that thread reconnects: one spurious 503 per
    HTTP thread (and per GET /tickets cache refresh) after every database restart or failover.
    Fix: in ingress/lookup.c run each read through a helper that, when the statement failed and
    bk_db_connected() turned false (the link was found dead), clears err, reconnects and runs the
    statement once more — safe for these read-only statements (never for the processor's transaction)."""
    scenario.begin()
    resp = requests.post(fleet.base_url + "/book", params={"wait": 5000}, json={"tier": "GA", "quantity": 1},
                         headers={"Content-Type": JSON_CT}, timeout=10)
    assert resp.status_code == 200, resp.text
    booking_url = f"{fleet.base_url}/bookings/{resp.json()['booking_id']}"
    urls = [booking_url] * 12 + [fleet.base_url + "/tickets"] * 4
    assert [fresh_get(u)[0] for u in urls] == [200] * len(urls)  # every HTTP thread holds a connection

    infra.stop_postgres_immediate()
    assert not infra.pg_ready()
    infra.up()
    fleet.wait_healthy(timeout=30)  # the health monitor reconnected: the database is up for the ingress
    answers = [fresh_get(u) for u in urls]
    assert [status for status, _ in answers] == [200] * len(urls), answers
