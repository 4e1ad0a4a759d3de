"""Kafka payloads are a trust boundary (SPEC §3): a message the processor cannot decode, or one that
decodes to an impossible booking, is recorded in dead_letters and skipped — never a crash loop, never a
stuck partition, never a change to the seats. The valid booking behind it is decided as usual."""

import json

import pytest

from helpers import BOOKING_ID_RE, PARTITION, assert_final_booking, random_booking_id

GA = PARTITION["GA"]

UNDECODABLE = [
    pytest.param(b"\xff\xfe this is not json {", id="not_json"),
    pytest.param(b"", id="empty"),
    pytest.param(b"{}", id="empty_object"),
    pytest.param(b"[1, 2, 3]", id="array"),
    pytest.param(b'{"v": 999, "booking_id": "x"}', id="unknown_version"),
    pytest.param(b'{"tier": "GA", "quantity": 1', id="truncated"),
]


def assert_dead_lettered_and_skipped(stack, api, db, drain, offset, payload):
    pid = stack.processor.proc.pid
    # A valid booking queued behind the bad message in the same partition is still decided...
    booking_id = api.accepted("GA", 1)["booking_id"]
    assert_final_booking(api.wait_final(booking_id), "GA", 1, status="confirmed")
    drain()
    # ...the bad one is recorded exactly once, with its bytes, and cost no seat...
    letters = {o: (bytes(p), e) for o, p, e in db.dead_letters(GA)}
    assert offset in letters, f"no dead letter at {GA}@{offset}; have offsets {sorted(letters)[-5:]}"
    assert letters[offset][0] == payload
    assert letters[offset][1].strip(), "the dead letter records no error"
    assert [r.booking_id for r in db.tier_rows("GA")] == [booking_id]
    assert db.tier("GA") == (1000, 999)
    assert db.next_offsets()[GA] > offset
    # ...and the processor never restarted or died on it.
    assert stack.processor.running() and stack.processor.proc.pid == pid


@pytest.mark.parametrize("payload", UNDECODABLE)
def test_undecodable_message_is_dead_lettered(stack, api, db, drain, need_kafka, reset_tier, payload):
    reset_tier("GA")
    offset = need_kafka.produce(GA, payload)
    assert_dead_lettered_and_skipped(stack, api, db, drain, offset, payload)


@pytest.fixture
def real_message(api, db, need_kafka, reset_tier):
    """A real message the ingress published (read back from Kafka), as a dict, plus the id and quantity
    it was booked with: the template for well-formed but impossible messages."""
    reset_tier("GA")
    booking_id = api.accepted("GA", 7, customer="template")["booking_id"]
    api.wait_final(booking_id)
    row = db.rows([booking_id])[booking_id]
    raw = need_kafka.read(GA, row.kafka_offset)
    try:
        message = json.loads(raw)
    except ValueError:
        pytest.skip(f"the booking message is not JSON ({raw[:60]!r}): cannot derive impossible variants")
    if not isinstance(message, dict):
        pytest.skip("the booking message is not a JSON object")
    return message, booking_id


def _replace(node, old, new):
    """Copy of a JSON value with every leaf equal to `old` (same type) replaced by `new`; and the count."""
    if isinstance(node, dict):
        pairs = [(k, _replace(v, old, new)) for k, v in node.items()]
        return {k: v for k, (v, _) in pairs}, sum(n for _, (_, n) in pairs)
    if isinstance(node, list):
        items = [_replace(v, old, new) for v in node]
        return [v for v, _ in items], sum(n for _, n in items)
    if type(node) is type(old) and node == old:
        return new, 1
    return node, 0


IMPOSSIBLE = [
    pytest.param(7, 0, id="quantity_zero"),
    pytest.param(7, -5, id="quantity_negative"),
    pytest.param("GA", "NOPE", id="unknown_tier"),
]


@pytest.mark.parametrize("old, new", IMPOSSIBLE)
def test_impossible_booking_message_is_dead_lettered(stack, api, db, drain, need_kafka, reset_tier, real_message,
                                                     old, new):
    message, template_id = real_message
    # A fresh id, so the processor cannot dismiss the copy as a duplicate of the template.
    forged, n_ids = _replace(message, template_id, random_booking_id())
    forged, n_changed = _replace(forged, old, new)
    if n_ids != 1 or n_changed != 1:
        pytest.skip(f"cannot locate the id/field to alter unambiguously in {message!r}")
    assert BOOKING_ID_RE.match(template_id)

    reset_tier("GA")
    payload = json.dumps(forged).encode()
    offset = need_kafka.produce(GA, payload)
    assert_dead_lettered_and_skipped(stack, api, db, drain, offset, payload)


def test_message_refused_by_postgresql_is_dead_lettered_not_retried_for_ever(stack, api, db, drain, reset_tier):
    """A decodable message that PostgreSQL refuses for its data (here a CHECK constraint the test adds)
    must not stop the partition: the processor retries the batch one message at a time, dead-letters
    the refused one with PostgreSQL's reason, and decides the others in the same batch."""
    reset_tier("GA")
    db.conn.execute("ALTER TABLE bookings ADD CONSTRAINT itest_refuse_poison CHECK (customer IS DISTINCT FROM 'poison')")
    try:
        before = api.accepted("GA", 1, customer="before")["booking_id"]
        poison = api.accepted("GA", 2, customer="poison")["booking_id"]
        after = api.accepted("GA", 3, customer="after")["booking_id"]
        assert_final_booking(api.wait_final(before), "GA", 1, status="confirmed")
        assert_final_booking(api.wait_final(after), "GA", 3, status="confirmed")
        drain()
    finally:
        db.conn.execute("ALTER TABLE bookings DROP CONSTRAINT itest_refuse_poison")
    letters = [(bytes(p), e) for _, p, e in db.dead_letters(GA)]
    refused = [(p, e) for p, e in letters if poison.encode() in p]
    assert len(refused) == 1, f"want one dead letter for {poison}, have {letters}"
    assert "itest_refuse_poison" in refused[0][1]
    assert poison not in db.rows([before, poison, after])
    assert db.tier("GA") == (1000, 996)
    assert stack.processor.running()
