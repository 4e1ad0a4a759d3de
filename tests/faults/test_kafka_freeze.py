"""The broker frozen (SIGSTOP) with bookings in flight: their messages were sent and are never acknowledged
within BK_PRODUCE_TIMEOUT_MS, so the client gets 503 (nothing promised) — but the broker may have written
them, and once it continues it does. The 503 then names the booking_id the booking would have
(docs/api.md "POST /book"), the client can look it up, and the ingress never says that booking does not
exist: GET /bookings/{id} answers pending until the processor decides it, then its outcome."""

import threading
import time

import requests

from fault_helpers import Attempt, post_book
from helpers import BOOKING_ID_RE

IN_FLIGHT = 6


def test_kafka_frozen_with_bookings_in_flight(scenario, fleet, db, infra):
    scenario.begin()
    session = requests.Session()
    warm = post_book(session, fleet.base_url, Attempt(tag="ft-kafka-frozen-warm", tier="GA", quantity=1, key=None,
                                                      wait=None, t0=time.monotonic()))
    assert warm.status == 202, (warm.status, warm.body)
    scenario.extra_attempts.append(warm)
    session.close()

    attempts = [Attempt(tag=f"ft-kafka-frozen-{i}", tier="GA", quantity=1, key=None, wait=None, t0=0.0)
                for i in range(IN_FLIGHT)]
    pids = infra.freeze_kafka()
    try:
        # Sent at once, before the health monitor can know the broker is away (then nothing would be sent).
        def send(attempt):
            attempt.t0 = time.monotonic()
            with requests.Session() as own:
                post_book(own, fleet.base_url, attempt)

        threads = [threading.Thread(target=send, args=(a,), daemon=True) for a in attempts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        infra.thaw(pids)
    scenario.extra_attempts.extend(attempts)
    answers = [(a.status, a.body, a.error) for a in attempts]
    assert all(a.status == 503 and a.retry_after is not None for a in attempts), answers
    named = [a for a in attempts if isinstance(a.body, dict) and "booking_id" in a.body]
    assert named, f"no 503 named the booking it may have written: {answers}"
    for a in named:
        assert set(a.body) == {"error", "booking_id"} and BOOKING_ID_RE.match(a.body["booking_id"]), a.body

    fleet.wait_healthy(timeout=60)
    scenario.drain(timeout=120)
    rows = db.rows([a.body["booking_id"] for a in named])
    for a in named:
        resp = requests.get(f"{fleet.base_url}/bookings/{a.body['booking_id']}", timeout=10)
        assert resp.status_code == 200, (a.body, resp.status_code, resp.text)
        row = rows.get(a.body["booking_id"])
        want = row.status if row is not None else "pending"
        assert resp.json().get("status") == want, (a.body, resp.json(), row)
    scenario.figures.update(in_flight=IN_FLIGHT, named=len(named), written=len(rows))
    scenario.verify(allowed=(503,))
