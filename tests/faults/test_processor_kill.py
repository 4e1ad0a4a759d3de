"""kill -9 of the processor in the middle of a batch, under a steady stream of bookings, then a restart
(docs/design.md#invariants): the batch the kill cut off is rolled back by PostgreSQL, the new processor starts from the
stored offsets, and every accepted booking is decided exactly once."""

import time

from fault_helpers import assigned_partitions, blocked_batch
from helpers import tier_locked, wait_until


def test_processor_kill9_mid_batch(scenario, fleet, db, cfg):
    load = scenario.begin().load(rate=60)
    scenario.wait_decided(60, what="60 bookings decided before the crash")

    # Mid-batch for certain: hold the GA tier row, so the processor's next GA batch waits inside its
    # transaction (it already locked the partition's offset row), then kill it there.
    with tier_locked(cfg["BK_PG_DSN"], "GA"):
        backend, xid = wait_until(lambda: blocked_batch(db, fleet.processor, cfg["BK_PG_PORT"]), 30,
                                  "a GA batch to wait inside its transaction")
        offsets_at_kill = db.next_offsets()
        scenario.snapshot()
        fleet.processor.kill9()
        killed_at = time.monotonic()
    # PostgreSQL rolls back what the dead processor left open: nothing of that batch was applied.
    status = wait_until(lambda: db.xact_status(xid) != "in progress" and db.xact_status(xid), 30,
                        f"the killed batch's transaction {xid} (backend {backend}) to end")
    assert status == "aborted", f"the batch in hand at the kill was {status}, not rolled back"
    assert db.next_offsets() == offsets_at_kill

    # Bookings keep being accepted while no processor runs: they wait in Kafka.
    scenario.wait_answers(load, lambda a: a.promised and a.t0 > killed_at, 30, 30,
                          "30 bookings accepted while no processor runs")
    fleet.start_processor()
    # The new processor starts exactly where PostgreSQL says the old one stopped.
    assert assigned_partitions(fleet.processor.log()) == offsets_at_kill
    scenario.wait_decided(60, what="60 bookings decided after the restart")
    scenario.verify(allowed=(), restarted=("bk-processor",))
