"""kill -9 of the ingress with requests in flight, then a restart (docs/design.md#invariants): a request cut off got no
promise, and retrying it with its Idempotency-Key finds the same booking — whether or not the first
attempt reached Kafka — so nothing is lost and nothing is doubled."""

import time

import requests

from fault_helpers import Attempt, blocked_batch, post_book
from helpers import tier_locked, wait_until


def test_ingress_kill9_with_requests_in_flight(scenario, fleet, db, cfg):
    # Every request carries a key (so a cut-off one can be retried); half of them ?wait for the outcome.
    load = scenario.begin().load(rate=60, keys=True, wait_share=0.5, wait_ms=4000)
    scenario.wait_decided(60, what="60 bookings decided before the crash")

    # In flight for certain: with the processor held inside a GA batch no outcome can come, so every
    # ?wait request stays suspended in the ingress.
    with tier_locked(cfg["BK_PG_DSN"], "GA"):
        wait_until(lambda: blocked_batch(db, fleet.processor, cfg["BK_PG_PORT"]), 30,
                   "the processor to wait inside a GA batch")
        wait_until(lambda: len([a for a in load.in_flight(0.2) if a.wait]) >= 5, 30,
                   "5 ?wait requests in flight for 0.2 s")
        suspended = [a for a in load.in_flight(0.2) if a.wait]
        scenario.snapshot()
        fleet.ingress.kill9()
        killed_at = time.monotonic()
    wait_until(lambda: all(a.t1 is not None for a in suspended), 20, "the cut-off requests to end")
    assert all(a.error for a in suspended), [(a.tag, a.status) for a in suspended if not a.error]

    fleet.start_ingress()
    restarted_at = time.monotonic()
    scenario.wait_answers(load, lambda a: a.promised and a.t0 > restarted_at, 30, 30,
                          "30 bookings accepted after the restart")
    load.stop()

    # Clients retry what got no answer, with the same key: the same booking, never a second one.
    failed = [a for a in load.attempts if a.error]
    assert len(failed) >= len(suspended)
    session = requests.Session()
    for a in failed:
        retry = post_book(session, fleet.base_url, Attempt(tag=a.tag, tier=a.tier, quantity=a.quantity, key=a.key,
                                                             wait=None, t0=time.monotonic(), retry_of=a))
        assert retry.promised, f"retry of {a.tag}: {retry.status} {retry.body!r} {retry.error}"
        scenario.extra_attempts.append(retry)
    session.close()
    scenario.figures.update(cut_off=len(suspended), failed=len(failed),
                            killed_at=round(killed_at - scenario.started, 1))
    scenario.verify(allowed=("error",), restarted=("bk-ingress",))
