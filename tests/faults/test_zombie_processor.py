"""Two processors in one consumer group; one is frozen with SIGSTOP while it holds a batch, until the group
gives its partitions to the other, and then resumed (docs/design.md: fencing on the stored offset). The zombie still
tries to commit the batch it held — and the fence turns every message of it into already_applied: nothing is
applied twice, no seat is taken twice."""

import time

import pytest

from fault_helpers import (APPLIED_RE, FENCED_RE, SESSION_TIMEOUT_S, TIER_OF_PARTITION, assigned_partitions,
                           backends_of, owned_partitions)
from helpers import TIER_CODES, tier_locked, wait_until

# The zombie holds a batch for up to 2 s, so that at any moment it most likely has one in hand.
ZOMBIE_ENV = {"BK_BATCH_WAIT_MS": "2000", "BK_BATCH_MAX": "10000"}


def join_zombie(scenario, fleet):
    """Starts the stream and a second processor; returns (zombie, its partitions, the stream)."""
    survivor = fleet.processor
    load = scenario.begin().load(rate=60)
    scenario.wait_decided(30, what="30 bookings decided before the zombie joins")
    mark = survivor.mark()
    zombie = fleet.service("bk-processor", ZOMBIE_ENV, name="bk-processor-zombie")
    fleet.extra.append(zombie)
    fleet.start_processor(zombie)
    mine = set(assigned_partitions(zombie.log()))
    assert mine, f"the zombie got no partition:\n{zombie.tail()}"
    # The survivor gave them up (the group rebalanced) and kept the others.
    wait_until(lambda: (p := assigned_partitions(survivor.log_since(mark))) is not None and not set(p) & mine, 30,
               "the survivor to be reassigned without the zombie's partitions", detail=survivor.tail)
    zombie.wait_for_log(r"event=batch_applied", 30, "a first batch applied by the zombie")
    return zombie, mine, load


def test_zombie_processor_is_fenced(scenario, fleet, db, kafka, cfg):
    survivor = fleet.processor
    zombie, mine, load = join_zombie(scenario, fleet)

    # Freeze it while it holds messages: it committed its last batch more than 0.5 s ago, and at least
    # 3 messages of its partition are in Kafka beyond what it committed (fetched within ~50 ms). Not
    # inside a transaction, though: that is the other test below.
    def holding():
        stored, high = db.offset_rows(), kafka.high_watermarks()
        return [p for p in mine if high[p] - stored[p][0] >= 3 and stored[p][1] >= 0.5]

    for _ in range(5):
        held = wait_until(holding, 30, "the zombie to hold a batch", interval=0.05)
        zombie_mark, survivor_mark = zombie.mark(), survivor.mark()
        zombie.freeze()
        backends = backends_of(db, zombie, cfg["BK_PG_PORT"])
        if backends and all(state == "idle" for state, _ in backends):
            break
        zombie.thaw()  # caught inside its transaction: let it finish and try again
    else:
        pytest.fail("could not freeze the zombie outside a transaction in 5 tries")
    frozen_at = time.monotonic()
    high_at_freeze = kafka.high_watermarks()
    scenario.snapshot()

    # The group notices only after the session timeout; then the survivor owns every partition and applies
    # everything the zombie held.
    def taken_over():
        parts = assigned_partitions(survivor.log_since(survivor_mark))
        return parts is not None and mine <= set(parts)

    wait_until(taken_over, 3 * SESSION_TIMEOUT_S, "the survivor to be assigned the zombie's partitions",
               interval=0.1, detail=survivor.tail)
    taken_after = time.monotonic() - frozen_at
    # Its last heartbeat (every 1 s) came at most 1 s before the freeze: the session ran out, nothing else.
    assert taken_after >= SESSION_TIMEOUT_S - 1.5, \
        f"partitions moved after {taken_after:.1f}s, before the session timeout"
    wait_until(lambda: all(db.next_offsets()[p] >= high_at_freeze[p] for p in mine), 30,
               "the survivor to apply everything the zombie held", interval=0.1,
               detail=lambda: f"stored {db.next_offsets()}, high at freeze {high_at_freeze}")
    assert zombie.state() == "T", "the zombie is not frozen"

    zombie.thaw()
    frozen_for = time.monotonic() - frozen_at
    fenced = zombie.wait_for_log_since(zombie_mark, FENCED_RE.pattern, 30, "event=fenced")
    partition, skipped = int(fenced.group(1)), int(fenced.group(3))
    assert partition in mine and skipped > 0, fenced.group(0)
    # What the zombie tried to commit after its thaw applied nothing that was applied before.
    skipped_total = sum(int(m.group(4)) for m in APPLIED_RE.finditer(zombie.log_since(zombie_mark)))
    assert skipped_total >= skipped

    # The zombie leaves cleanly; the survivor takes everything back and the stream goes on. The
    # survivor's current assignment counts, whenever it came: if the thawed zombie leaves before it
    # rejoins the group, the survivor already owns every partition and no new rebalance happens.
    fleet.stop_extra()
    wait_until(lambda: set(owned_partitions(survivor.log()) or ()) == set(TIER_OF_PARTITION),
               30, "the survivor to take back every partition", detail=survivor.tail)
    scenario.wait_decided(30, 60, "30 bookings decided after the zombie left")
    scenario.figures.update(zombie_partitions=sorted(TIER_OF_PARTITION[p] for p in mine), held=held,
                            frozen_s=round(frozen_for, 1), taken_over_s=round(taken_after, 1),
                            fenced_messages=skipped_total)
    scenario.verify(allowed=())


def test_zombie_frozen_inside_its_transaction_stalls_nothing(scenario, fleet, db, kafka, cfg):
    """A processor paused in the middle of a batch transaction (GC-like stall, SIGSTOP, a suspended VM)
    must cost at most its own partitions for a bounded time — here: after the session timeout the survivor
    decides bookings of every tier while the zombie is still frozen.

    Today: the zombie's backend sits "idle in transaction" holding the partition_offsets row FOR UPDATE (and
    the tier row). When the group hands the partition to the survivor, its rebalance callback runs assign()
    -> bk_store_load_offset() -> "lock_offset" (SELECT ... FOR UPDATE), which waits for that lock with no
    timeout. The survivor's only thread is stuck there, so its own partitions stop too: the whole pipeline
    stalls until the zombie resumes (never, if it never does). Safety holds — when the zombie resumes and
    commits, the survivor reads the new offset and the fence skips what the zombie applied — only liveness
    breaks. Seen first as a flake of test_zombie_processor_is_fenced (a 30 s transaction in the zombie's log).
    Fix: bound how long a stalled client can hold those locks — the processor sets
    idle_in_transaction_session_timeout (e.g. 5 s; PostgreSQL then ends the zombie's session, rolling its
    batch back) on its connection, e.g. "SET idle_in_transaction_session_timeout = '5s'" right after
    connecting in processor/store.c (or options=-c... in the DSN it uses) — and lock_timeout (e.g. 2 s) on
    lock_offset, retrying with rd_kafka_poll in between, so the rebalance callback never blocks unbounded."""
    zombie, mine, load = join_zombie(scenario, fleet)
    partition = min(mine)
    tier = TIER_OF_PARTITION[partition]

    # Deterministically mid-transaction: hold the zombie's tier row, so its next batch waits inside its
    # transaction (offset row locked); freeze it there, then let go of the tier row.
    with tier_locked(cfg["BK_PG_DSN"], tier):
        wait_until(lambda: ("active", True) in backends_of(db, zombie, cfg["BK_PG_PORT"]), 30,
                   f"the zombie's {tier} batch to wait inside its transaction", interval=0.05)
        zombie.freeze()
        frozen_at = time.monotonic()
        offsets = db.next_offsets()
    wait_until(lambda: backends_of(db, zombie, cfg["BK_PG_PORT"]) == [("idle in transaction", True)], 10,
               "the frozen zombie's backend to sit idle in its transaction", interval=0.05)

    def decided_per_tier():
        return {t: n for t, n in db.all("SELECT tier, count(*) FROM bookings WHERE " + " OR ".join(
            "(kafka_partition = %s AND kafka_offset >= %s)" for _ in offsets) + " GROUP BY tier",
            [v for p, o in offsets.items() for v in (p, o)])}

    wait_until(lambda: all(decided_per_tier().get(t, 0) >= 5 for t in TIER_CODES), SESSION_TIMEOUT_S + 10,
               "bookings of every tier to be decided while the zombie is frozen inside its transaction",
               interval=0.2, detail=lambda: f"decided since the freeze: {decided_per_tier()}, "
                                            f"zombie backends: {backends_of(db, zombie, cfg['BK_PG_PORT'])}")
    assert zombie.state() == "T"
    stalled_for = time.monotonic() - frozen_at

    zombie.thaw()
    fleet.stop_extra()
    scenario.wait_decided(30, 60, "30 bookings decided after the zombie left")
    scenario.figures.update(zombie_partitions=sorted(TIER_OF_PARTITION[p] for p in mine),
                            flowing_after_s=round(stalled_for, 1))
    scenario.verify(allowed=())
