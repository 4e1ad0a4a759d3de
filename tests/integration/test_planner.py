"""The processor's batch dedupe (`booking_id = ANY(ids)`) never scans the bookings table sequentially,
even while the planner believes the table small: sequential scans are turned off inside the batch's
own transaction (processor/store.c), not on every connection (common/db.h, bk_db_forbid_seqscan)."""

import urllib.parse

from helpers import SEATS, TIER_CODES, client_ports, wait_until

N_BOOKINGS = 40


def bookings_stats(db):
    """(seq_scan, idx_scan, n_tup_ins) of the bookings table, as the statistics system has them."""
    return db.one("SELECT seq_scan, idx_scan, n_tup_ins FROM pg_stat_user_tables WHERE relname = 'bookings'")


def test_batch_dedupe_never_scans_bookings_sequentially(cfg, stack, api, db, reset_tier):
    for tier in TIER_CODES:
        reset_tier(tier, SEATS[tier])
    # Statistics of a near-empty table: the situation of an on-sale's first minutes, before autovacuum
    # analyzes again. For such a table a sequential scan is the planner's cheapest plan.
    db.conn.execute("ANALYZE bookings")

    # Every backend reports its scans to the statistics system in its own time (up to seconds later);
    # one that exits reports at once. Restart both services and wait until their old database sessions
    # are gone, so no scan made before this point is counted after the baseline.
    port = urllib.parse.urlparse(cfg["BK_PG_DSN"]).port
    old_ports = set()
    for service in (stack.ingress, stack.processor):
        old_ports |= client_ports(service.proc.pid, port)
    stack.restart_ingress()
    stack.restart_processor()

    def old_sessions_gone():
        (n,) = db.one("SELECT count(*) FROM pg_stat_activity WHERE client_port = ANY(%s)", (list(old_ports),))
        return n == 0

    wait_until(old_sessions_gone, 30, "the old services' database sessions to end")
    db.one("SELECT pg_stat_force_next_flush()")
    db.one("SELECT 1")  # this session's own scans (the reset's DELETEs) are reported now
    seq_before, idx_before, ins_before = bookings_stats(db)

    for _ in range(N_BOOKINGS):
        api.accepted("GA", 1)

    wait_until(lambda: bookings_stats(db)[2] >= ins_before + N_BOOKINGS, 30,
               "the processor's inserts to reach the statistics", detail=lambda: f"stats: {bookings_stats(db)}")
    seq_after, idx_after, _ = bookings_stats(db)
    assert seq_after == seq_before, (
        f"bookings scanned sequentially {seq_after - seq_before} times while {N_BOOKINGS} bookings were "
        f"applied (index scans: {idx_after - idx_before})")
    assert idx_after > idx_before, "the batch dedupe did not read bookings by its index"
