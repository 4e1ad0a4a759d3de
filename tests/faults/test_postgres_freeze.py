"""PostgreSQL frozen: every one of its processes stopped (SIGSTOP) for 15 s under a steady stream of
bookings, then continued (SIGCONT). Unlike a crash, the kernel still accepts connections and answers TCP
keepalives, so only the services' own time bounds notice (docs/running.md "Database timeouts"): GET /health
says the database is degraded within seconds, bookings are still accepted (they wait in Kafka), nothing
blocks for ever, and after the thaw every promise is kept without anyone lending a hand."""

import time

import requests


FROZEN_S = 15.0
DEGRADED_WITHIN_S = 8.0  # two failed probes of the health monitor, each bounded


def test_postgres_frozen(scenario, fleet, db, infra):
    load = scenario.begin().load(rate=60)
    scenario.wait_decided(60, what="60 bookings decided before the database freezes")
    mark = fleet.processor.mark()
    scenario.snapshot()

    health = []  # (seconds since the freeze, status code, body)
    tickets = []  # (seconds since the freeze, status code or error, seconds it took)
    pids = infra.freeze_postgres()
    frozen_at = time.monotonic()
    try:
        # The whole freeze long: /health every 0.25 s, /tickets every second (it must answer, 200 from
        # the cache or 503, never hang on the database).
        next_tickets = frozen_at
        while time.monotonic() - frozen_at < FROZEN_S:
            status, body = fleet.health()
            health.append((time.monotonic() - frozen_at, status, body))
            if time.monotonic() >= next_tickets:
                t0 = time.monotonic()
                try:
                    status = requests.get(fleet.base_url + "/tickets", timeout=10).status_code
                except requests.RequestException as exc:
                    status = type(exc).__name__
                tickets.append((t0 - frozen_at, status, time.monotonic() - t0))
                next_tickets = t0 + 1.0
            # Sampling a state for the whole fault's duration, not synchronising on it.
            time.sleep(0.25)
        accepted_frozen = load.count(lambda a: a.promised and a.t0 > frozen_at + 1)
    finally:
        infra.thaw(pids)
    thawed_at = time.monotonic()

    degraded = [(round(t, 1), body) for t, status, body in health if status == 503
                and isinstance(body, dict) and body.get("database") not in (None, "ok")]
    assert degraded and degraded[0][0] <= DEGRADED_WITHIN_S, (
        f"GET /health did not report the database degraded within {DEGRADED_WITHIN_S:g}s of the freeze: "
        f"first answers {[(round(t, 1), s, b) for t, s, b in health[:8]]}, last {health[-1]}")
    assert all(b.get("kafka") == "ok" for _, b in degraded), degraded
    assert not [t for t in tickets if t[1] not in (200, 503)], f"GET /tickets during the freeze: {tickets}"
    assert accepted_frozen >= 100, f"only {accepted_frozen} bookings accepted while the database was frozen"

    # Back by itself: the processor resumes, the ingress says healthy again.
    fleet.processor.wait_for_log_since(mark, r"event=resumed", 60, "event=resumed")
    fleet.wait_healthy(timeout=30)
    scenario.wait_decided(60, 60, "60 bookings decided after the thaw")
    failed = len([1 for line in fleet.processor.log_since(mark).splitlines() if "event=batch_failed" in line])
    scenario.figures.update(frozen_s=round(thawed_at - frozen_at, 1), degraded_after_s=degraded[0][0],
                            accepted_frozen=accepted_frozen, batch_failed=failed,
                            tickets_slowest_s=round(max(t[2] for t in tickets), 2))
    scenario.verify(allowed=(), read_retries=True)
