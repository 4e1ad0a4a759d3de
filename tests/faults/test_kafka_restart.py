"""The Kafka broker killed (-9) and restarted with `./bk up` (docs/design.md#outages): while it is away the ingress
answers 503 + Retry-After — at once, once its health monitor knows — and never a 202 it cannot keep; when
the broker is back, the ingress answers 202 again and the processor resumes, both by themselves."""

import statistics
import time

import pytest

from fault_helpers import INGRESS_ENV
from helpers import wait_until

PRODUCE_TIMEOUT_S = int(INGRESS_ENV["BK_PRODUCE_TIMEOUT_MS"]) / 1000


def kafka_down(fleet):
    status, body = fleet.health()
    return status == 503 and isinstance(body, dict) and body.get("kafka") != "ok" and body.get("status") == "degraded"


def test_kafka_broker_killed_and_restarted(scenario, fleet, db, infra):
    load = scenario.begin().load(rate=60)
    scenario.wait_decided(60, what="60 bookings decided before the broker dies")
    pids = infra.pids()
    scenario.snapshot()

    infra.kill_kafka()
    killed_at = time.monotonic()
    wait_until(lambda: kafka_down(fleet), 15, "GET /health to report the broker down", interval=0.1,
               detail=lambda: f"last answer: {fleet.health()}")
    known_down = time.monotonic()
    scenario.wait_answers(load, lambda a: a.status == 503 and a.t0 > known_down, 20, 30,
                          "20 answers 503 while the broker is away")

    restart_at = time.monotonic()
    during = [a for a in list(load.attempts) if a.t1 is not None and a.t0 > killed_at and a.t1 < restart_at]
    lies = [a for a in during if a.promised]
    assert not lies, f"{len(lies)} bookings promised while the broker was dead, e.g. {lies[:3]}"
    quick = [a.t1 - a.t0 for a in during if a.t0 > known_down]
    assert statistics.median(quick) < 0.5, \
        f"503 took {statistics.median(quick):.2f}s (median) with the broker known down"

    infra.up()
    back_at = time.monotonic()
    now = infra.pids()
    assert now["postgres"] == pids["postgres"], "./bk up restarted PostgreSQL, which was running"
    assert now["kafka"] not in (None, pids["kafka"]), (pids, now)

    # Back by itself: same ingress and processor processes, no restart of ours.
    fleet.wait_healthy(timeout=60)
    scenario.wait_answers(load, lambda a: a.status == 202 and a.t0 > back_at, 30, 60,
                          "30 bookings accepted again after the broker came back")
    scenario.wait_decided(30, 60, "30 bookings decided after the broker came back")
    slowest = max(a.t1 - a.t0 for a in load.attempts if a.t1 is not None)
    scenario.figures.update(down_s=round(restart_at - killed_at, 1), restart_s=round(back_at - restart_at, 1),
                            known_down_s=round(known_down - killed_at, 1), slowest_answer_s=round(slowest, 2),
                            unavailable=load.count(lambda a: a.status == 503))
    scenario.verify(allowed=(503,))

    # Regression: messages queued just before the broker died used to wait for librdkafka's
    # reconnect backoff (10 s by default) before timing out; ingress/pub.c now caps it at 1 s. The
    # margin absorbs a starved CI machine (6.7 s seen while the hypervisor stole half the cores and
    # the broker took 97 s to restart) and still catches most of the 7-12 s waits of the bug.
    assert slowest <= PRODUCE_TIMEOUT_S + 5.5, (
        f"a client waited {slowest:.1f}s for its 503 with BK_PRODUCE_TIMEOUT_MS={INGRESS_ENV['BK_PRODUCE_TIMEOUT_MS']}")
