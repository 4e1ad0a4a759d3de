"""Crashes (docs/design.md#invariants): kill -9 of the processor or the ingress in the middle of a stream of bookings.
A 202 is a promise — every accepted booking reaches exactly one final outcome, outcomes decided before
the crash never change, seats are never taken twice, and the result is still first come, first served.
Also: ?wait when the outcome cannot be known (processor stopped); states that must stop a partition
loudly instead of crashing the processor or skipping bookings (a tier without its row, a stored offset
that no longer points into the Kafka log)."""

import itertools
import threading
import time

import requests

from helpers import (FINAL, PARTITION, TOPIC, Api, assert_api_agrees, assert_final_booking, assert_tier_consistent,
                     json_body, wait_until)

CAPACITY = 300
QUANTITIES = [1, 2, 1, 3, 1, 1, 2, 1]  # mean 1.5: sold out after ~200 of the bookings


class Sender(threading.Thread):
    """Posts GA bookings one after another and records what the ingress answered."""

    def __init__(self, base_url, quantities, stop_on_error):
        super().__init__(daemon=True)
        self.base_url = base_url
        self.quantities = quantities
        self.stop_on_error = stop_on_error
        self.accepted = []  # (booking_id, quantity) for every 202
        self.refused = []  # (status, body) for any other answer
        self.errors = []  # transport errors (connection reset by a killed ingress)

    def run(self):
        api = Api(self.base_url, timeout=15)
        try:
            for quantity in self.quantities:
                try:
                    resp = api.book("GA", quantity)
                except requests.RequestException as exc:
                    self.errors.append(repr(exc))
                    if self.stop_on_error:
                        return
                    continue
                if resp.status_code == 202:
                    self.accepted.append((resp.json()["booking_id"], quantity))
                else:
                    self.refused.append((resp.status_code, resp.text[:200]))
        finally:
            api.session.close()


def start_senders(base_url, n_total, n_threads, stop_on_error):
    quantities = list(itertools.islice(itertools.cycle(QUANTITIES), n_total))
    senders = [Sender(base_url, quantities[i::n_threads], stop_on_error) for i in range(n_threads)]
    for sender in senders:
        sender.start()
    return senders


def join_senders(senders, timeout):
    deadline = time.monotonic() + timeout
    for sender in senders:
        sender.join(max(0.0, deadline - time.monotonic()))
    assert not any(s.is_alive() for s in senders), f"senders still running after {timeout}s"
    accepted = [a for s in senders for a in s.accepted]
    return accepted, [r for s in senders for r in s.refused], [e for s in senders for e in s.errors]


def n_accepted(senders):
    return sum(len(s.accepted) for s in senders)


def test_processor_kill9_mid_stream(stack, api, db, drain, reset_tier):
    reset_tier("GA", CAPACITY)
    stored_before = db.next_offsets().get(2, 0)
    n_total = 1000
    senders = start_senders(stack.base_url, n_total, 4, stop_on_error=False)

    wait_until(lambda: db.count_tier("GA") >= 100, 60, "100 GA bookings to be decided",
               detail=lambda: f"decided {db.count_tier('GA')}, accepted {n_accepted(senders)}")
    stack.processor.kill9()
    before = {r.booking_id: r for r in db.tier_rows("GA")}
    assert 0 < len(before) < n_total, f"{len(before)} decided at the kill: not mid-stream"

    accepted, refused, errors = join_senders(senders, 120)
    assert not refused and not errors, (refused[:5], errors[:5])
    assert len(accepted) == n_total
    quantity_of = dict(accepted)
    assert len(quantity_of) == n_total, "booking ids are not unique"

    stack.start_processor()
    db.wait_decided(quantity_of, 180, "accepted bookings")
    drain(timeout=120)

    # Exactly one row per 202 and no other; what was decided before the crash is untouched.
    after = {r.booking_id: r for r in db.tier_rows("GA")}
    assert set(after) == set(quantity_of)
    assert all(after[i].quantity == q for i, q in quantity_of.items())
    changed = [(before[i], after[i]) for i in before if after[i] != before[i]]
    assert not changed, f"{len(changed)} bookings decided before the crash changed, e.g. {changed[:3]}"
    assert_tier_consistent(db, "GA", CAPACITY, CAPACITY)

    # The stored offset moved past everything applied, and nothing is left to apply.
    stored = db.next_offsets()[2]
    assert stored > stored_before
    assert stored > max(r.kafka_offset for r in after.values())

    # The API agrees with the database, and a second read changes nothing.
    assert_api_agrees(stack.base_url, after.values())
    assert {r.booking_id: r for r in db.tier_rows("GA")} == after


def test_ingress_kill9_mid_stream(stack, api, db, drain, reset_tier):
    reset_tier("GA", CAPACITY)
    senders = start_senders(stack.base_url, 800, 4, stop_on_error=True)

    wait_until(lambda: n_accepted(senders) >= 100, 60, "100 accepted bookings",
               detail=lambda: f"accepted {n_accepted(senders)}")
    stack.ingress.kill9()
    accepted, refused, errors = join_senders(senders, 30)
    assert not refused, refused[:5]
    assert len(accepted) < 800, "the ingress was killed after the stream ended"

    stack.start_ingress()
    api.reconnect()
    accepted += [(api.accepted("GA", 1)["booking_id"], 1) for _ in range(20)]
    quantity_of = dict(accepted)

    db.wait_decided(quantity_of, 120, "accepted bookings")
    drain()
    rows = {r.booking_id: r for r in assert_tier_consistent(db, "GA", CAPACITY, CAPACITY)}
    assert set(quantity_of) <= set(rows)
    assert_api_agrees(stack.base_url, rows.values())
    assert all(rows[i].quantity == q for i, q in quantity_of.items())
    # A request cut off by the kill may still have been published: at most one booking per such request.
    unacknowledged = set(rows) - set(quantity_of)
    assert len(unacknowledged) <= len(errors), (len(unacknowledged), errors)


def test_wait_gives_up_while_the_processor_is_down(stack, api, db, reset_tier):
    reset_tier("GA")
    stack.processor.stop()  # clean stop: SIGTERM, exit code 0

    started = time.monotonic()
    resp = api.book("GA", 1, wait=300)
    held = time.monotonic() - started
    body = json_body(resp, 202)
    booking_id = body["booking_id"]
    assert body["status"] == "pending" and resp.headers.get("Location") == f"/bookings/{booking_id}"
    assert held >= 0.25, f"POST ?wait=300 answered after {held:.3f}s without an outcome"

    started = time.monotonic()
    body = json_body(api.get_booking(booking_id, wait=300), 200)
    held = time.monotonic() - started
    assert (body["booking_id"], body["status"]) == (booking_id, "pending")
    assert held >= 0.25, f"GET ?wait=300 answered after {held:.3f}s without an outcome"
    assert json_body(api.get_booking(booking_id), 200)["status"] == "pending"
    assert db.rows([booking_id]) == {}

    stack.start_processor()
    final = wait_until(lambda: _final_or_none(api, booking_id), 60, f"booking {booking_id} to be final")
    assert_final_booking(final, "GA", 1, status="confirmed")


def _final_or_none(api, booking_id):
    body = json_body(api.get_booking(booking_id, wait=1000), 200)
    return body if body["status"] in FINAL else None


def test_tier_without_its_row_stops_the_partition_without_a_crash(stack, api, db, drain, reset_tier):
    """A booking whose tier row is missing is not the message's fault: the processor keeps the batch,
    says why, retries, and decides it once the row is back; it never dies on it."""
    reset_tier("GA")
    pid = stack.processor.proc.pid
    row = db.one("SELECT tier, name, position, price_cents, capacity, available FROM tiers WHERE tier = 'GA'")
    db.conn.execute("DELETE FROM tiers WHERE tier = 'GA'")
    try:
        booking_id = api.accepted("GA", 1)["booking_id"]
        stack.processor.wait_for_log(r"event=batch_failed partition=2 .*tier GA has no row", 30,
                                     "the missing tier row reported")
        assert api.booking(booking_id)["status"] == "pending"
    finally:
        db.conn.execute("INSERT INTO tiers (tier, name, position, price_cents, capacity, available)"
                        " VALUES (%s, %s, %s, %s, %s, %s)", row)
    assert_final_booking(api.wait_final(booking_id), "GA", 1, status="confirmed")
    assert stack.processor.running() and stack.processor.proc.pid == pid


def _metric(stack, line_start):
    text = requests.get(stack.metrics_url, timeout=5).text
    return [line for line in text.splitlines() if line.startswith(line_start)]


def test_stored_offset_past_the_log_end_refuses_the_partition(stack, api, db, drain, need_kafka, reset_tier):
    """A topic deleted and created again restarts at offset 0, below the offset PostgreSQL stored. The
    processor must not consume that partition from anywhere (every message would be skipped as already
    applied): it says so, shows it in /metrics, keeps the other partitions going, and consumes again
    once an operator repaired the stored offset (docs/running.md)."""
    ga = PARTITION["GA"]
    reset_tier("GA")
    reset_tier("VIP")  # the partition that must go on needs a seat to confirm
    stack.processor.stop()
    high = need_kafka.high_watermarks()[ga]
    stored = high + 1000  # what the processor would hold after the topic was recreated
    db.conn.execute("UPDATE partition_offsets SET next_offset = %s WHERE topic = %s AND partition = %s",
                    (stored, TOPIC, ga))
    try:
        stack.start_processor()
        stack.processor.wait_for_log(rf"event=partition_refused topic={TOPIC} partition={ga} stored_offset={stored}"
                                     rf" log_start=\d+ log_end={high} reason=past_log_end", 30, "the refusal")
        booking_id = api.accepted("GA", 1)["booking_id"]
        other = api.accepted("VIP", 1)["booking_id"]
        assert_final_booking(api.wait_final(other), "VIP", 1, status="confirmed")  # the others go on
        assert _metric(stack, f'bk_partition_refused{{partition="{ga}"}}') == [f'bk_partition_refused{{partition="{ga}"}} 1']
        assert api.booking(booking_id)["status"] == "pending"
        assert db.next_offsets()[ga] == stored, "the refused partition moved"
    finally:
        # The operator's repair: stop the processor, point the offset at the first unapplied message.
        stack.processor.stop()
        db.conn.execute("UPDATE partition_offsets SET next_offset = %s WHERE topic = %s AND partition = %s",
                        (high, TOPIC, ga))
        stack.start_processor()
    assert_final_booking(api.wait_final(booking_id), "GA", 1, status="confirmed")
    assert _metric(stack, f'bk_partition_refused{{partition="{ga}"}}') in ([], [f'bk_partition_refused{{partition="{ga}"}} 0'])
