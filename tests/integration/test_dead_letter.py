"""Kafka payloads are a trust boundary: a message the processor cannot decode, one that decodes to an
impossible booking, or one whose row PostgreSQL refuses, is recorded in dead_letters and skipped — never a
crash loop, never a stuck partition, never a change to the seats. The valid booking behind it is decided
as usual. A 202 is a promise: when the dead message's booking id can be read, that booking ends
`rejected` with reason `invalid` (docs/api.md), in the transaction that records the dead letter."""

import base64
import hashlib
import hmac
import json
import os

import pytest

from helpers import BOOKING_ID_RE, PARTITION, assert_final_booking, parse_ts

GA = PARTITION["GA"]
INVALID_MESSAGE = "This booking could not be processed"


def signed_booking_id():
    """An id the ingress would accept as its own (the HMAC tag of common/id.h): only such ids can be read
    back with GET /bookings/{id}."""
    nonce = os.urandom(16)
    tag = hmac.new(os.environ["BK_ID_SECRET"].encode(), b"tag\0" + nonce, hashlib.sha256).digest()[:8]
    return base64.urlsafe_b64encode(nonce + tag).decode("ascii")


def assert_invalid(body, booking_id, quantity):
    """The booking object of a booking whose message could not be applied."""
    assert body.get("booking_id") == booking_id, body
    assert body.get("status") == "rejected", body
    assert (body.get("reason"), body.get("message")) == ("invalid", INVALID_MESSAGE), body
    assert body.get("tier") == "GA", body
    assert body.get("quantity") == quantity, body  # None: the message's quantity could not be read
    assert (body.get("amount_cents"), body.get("currency")) == (0, "USD"), body
    assert "customer" not in body, body
    assert parse_ts(body.get("created_at")) <= parse_ts(body.get("decided_at")), body


def assert_invalid_row(db, booking_id, offset, quantity):
    row = db.rows([booking_id]).get(booking_id)
    assert row is not None, f"booking {booking_id} has no row: it would stay pending for ever"
    assert (row.status, row.reason, row.tier, row.quantity, row.customer, row.amount_cents) == \
        ("rejected", "invalid", "GA", quantity, None, 0), row
    assert (row.kafka_partition, row.kafka_offset) == (GA, offset), row


def assert_dead_lettered_and_skipped(stack, api, db, drain, offset, payload, ends=None):
    """ends: (booking_id, quantity) when the message's id can be read: that booking must end invalid."""
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
    # ...the booking it carried, if its id can be read, ended invalid (and only that one)...
    if ends is not None:
        dead_id, quantity = ends
        assert_invalid(api.wait_final(dead_id), dead_id, quantity)
        assert_invalid_row(db, dead_id, offset, quantity)
        assert sorted(r.booking_id for r in db.tier_rows("GA")) == sorted([booking_id, dead_id])
    else:
        assert [r.booking_id for r in db.tier_rows("GA")] == [booking_id]
    assert db.tier("GA") == (1000, 999)
    assert db.next_offsets()[GA] > offset
    # ...and the processor never restarted or died on it.
    assert stack.processor.running() and stack.processor.proc.pid == pid


UNDECODABLE = [
    pytest.param(b"\xff\xfe this is not json {", id="not_json"),
    pytest.param(b"", id="empty"),
    pytest.param(b"{}", id="empty_object"),
    pytest.param(b"[1, 2, 3]", id="array"),
    pytest.param(b'{"v": 999, "booking_id": "x"}', id="unknown_version"),
    pytest.param(b'{"tier": "GA", "quantity": 1', id="truncated"),
]


@pytest.mark.parametrize("payload", UNDECODABLE)
def test_undecodable_message_is_dead_lettered(stack, api, db, drain, need_kafka, reset_tier, payload):
    reset_tier("GA")
    offset = need_kafka.produce(GA, payload)
    assert_dead_lettered_and_skipped(stack, api, db, drain, offset, payload)


# Undecodable, but the booking id can be read: (message fields, quantity the booking keeps).
READABLE_ID = [
    pytest.param({"v": 999}, None, id="unknown_version"),
    pytest.param({"v": 1, "quantity": 2, "accepted_at": 1763827200123}, 2, id="no_tier"),
    pytest.param({"v": 1, "tier": "GA", "quantity": 2, "customer": 5, "accepted_at": 1763827200123}, 2,
                 id="customer_not_a_string"),
    pytest.param({"v": 1, "tier": "GA", "quantity": 1e9, "accepted_at": "soon"}, None, id="quantity_and_time_bad"),
]


@pytest.mark.parametrize("fields, quantity", READABLE_ID)
def test_undecodable_message_with_a_readable_id_ends_its_booking(stack, api, db, drain, need_kafka, reset_tier,
                                                                 fields, quantity):
    reset_tier("GA")
    dead_id = signed_booking_id()
    payload = json.dumps({"booking_id": dead_id, **fields}).encode()
    offset = need_kafka.produce(GA, payload)
    assert_dead_lettered_and_skipped(stack, api, db, drain, offset, payload, ends=(dead_id, quantity))


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


# (field's old value, new value, the quantity the invalid booking keeps: None when unreadable)
IMPOSSIBLE = [
    pytest.param(7, 0, None, id="quantity_zero"),
    pytest.param(7, -5, None, id="quantity_negative"),
    pytest.param("GA", "NOPE", 7, id="unknown_tier"),
    pytest.param("GA", "VIP", 7, id="tier_of_another_partition"),
]


@pytest.mark.parametrize("old, new, quantity", IMPOSSIBLE)
def test_impossible_booking_message_is_dead_lettered(stack, api, db, drain, need_kafka, reset_tier, real_message,
                                                     old, new, quantity):
    message, template_id = real_message
    # A fresh id (signed, so the API can show it), so the processor cannot dismiss the copy as a
    # duplicate of the template.
    dead_id = signed_booking_id()
    forged, n_ids = _replace(message, template_id, dead_id)
    forged, n_changed = _replace(forged, old, new)
    if n_ids != 1 or n_changed != 1:
        pytest.skip(f"cannot locate the id/field to alter unambiguously in {message!r}")
    assert BOOKING_ID_RE.match(template_id)

    reset_tier("GA")
    payload = json.dumps(forged).encode()
    offset = need_kafka.produce(GA, payload)
    assert_dead_lettered_and_skipped(stack, api, db, drain, offset, payload, ends=(dead_id, quantity))


def test_dead_message_of_a_decided_booking_changes_nothing(stack, api, db, drain, need_kafka, reset_tier):
    """Unique ids: a dead message carrying the id of a booking already decided is recorded, and the
    booking keeps its first outcome."""
    reset_tier("GA")
    booking_id = api.accepted("GA", 2)["booking_id"]
    first = assert_final_booking(api.wait_final(booking_id), "GA", 2, status="confirmed")
    payload = json.dumps({"v": 999, "booking_id": booking_id}).encode()
    offset = need_kafka.produce(GA, payload)
    drain()
    assert offset in {o for o, _, _ in db.dead_letters(GA)}
    assert api.booking(booking_id) == first
    assert db.rows([booking_id])[booking_id].status == "confirmed"
    assert db.tier("GA") == (1000, 998)


def test_message_refused_by_postgresql_ends_invalid_and_is_not_retried_for_ever(stack, api, db, drain,
                                                                               reset_tier):
    """A decodable message that PostgreSQL refuses for its data (here a CHECK constraint the test adds)
    must not stop the partition: the processor retries the batch one message at a time, dead-letters
    the refused one with the SQLSTATE, ends its booking invalid, and decides the others in the same
    batch. The ingress answers the invalid booking from memory and from the database identically."""
    reset_tier("GA")
    db.conn.execute("ALTER TABLE bookings ADD CONSTRAINT itest_refuse_poison CHECK (customer IS DISTINCT FROM 'poison')")
    try:
        before = api.accepted("GA", 1, customer="before")["booking_id"]
        poison = api.accepted("GA", 2, customer="poison")["booking_id"]
        after = api.accepted("GA", 3, customer="after")["booking_id"]
        assert_final_booking(api.wait_final(before), "GA", 1, status="confirmed")
        assert_final_booking(api.wait_final(after), "GA", 3, status="confirmed")
        from_memory = api.wait_final(poison)
        drain()
    finally:
        db.conn.execute("ALTER TABLE bookings DROP CONSTRAINT itest_refuse_poison")
    letters = [(o, bytes(p), e) for o, p, e in db.dead_letters(GA)]
    refused = [(o, e) for o, p, e in letters if poison.encode() in p]
    assert len(refused) == 1, f"want one dead letter for {poison}, have {letters}"
    assert "23514" in refused[0][1], refused
    assert_invalid(from_memory, poison, 2)
    assert_invalid_row(db, poison, refused[0][0], 2)
    assert db.tier("GA") == (1000, 996)
    assert stack.processor.running()

    stack.restart_ingress()  # no memory: the answer now comes from PostgreSQL
    api.reconnect()
    assert api.booking(poison) == from_memory


def test_refused_row_with_a_multibyte_customer_does_not_stop_the_partition(stack, api, db, drain, reset_tier):
    """PostgreSQL's reason for refusing a row quotes the row, customer included. The processor must not
    copy it anywhere (dead_letters, logs), and must never store a cut that splits a UTF-8 character
    (PostgreSQL refuses such text, SQLSTATE 22021, and the partition would stop for good). Four
    customers of 4-byte characters shifted by 0 to 3 bytes put any fixed cut inside a character."""
    clef = "\U0001d11e"  # 𝄞, 4 bytes in UTF-8
    reset_tier("GA")
    pid = stack.processor.proc.pid
    db.conn.execute(f"ALTER TABLE bookings ADD CONSTRAINT itest_refuse_clef CHECK (customer NOT LIKE '%{clef}%')")
    try:
        customers = ["x" * pad + clef * 60 for pad in range(4)]
        poison = [api.accepted("GA", 1, customer=c)["booking_id"] for c in customers]
        after = api.accepted("GA", 2, customer="after")["booking_id"]
        assert_final_booking(api.wait_final(after), "GA", 2, status="confirmed")
        for booking_id in poison:
            assert_invalid(api.wait_final(booking_id), booking_id, 1)
        drain()
    finally:
        db.conn.execute("ALTER TABLE bookings DROP CONSTRAINT itest_refuse_clef")
    # Later bookings are still decided once the constraint is gone.
    later = api.accepted("GA", 1, customer=customers[0])["booking_id"]
    assert_final_booking(api.wait_final(later), "GA", 1, status="confirmed")

    letters = {bytes(p): e for _, p, e in db.dead_letters(GA)}
    for booking_id in poison:
        errors = [e for p, e in letters.items() if booking_id.encode() in p]
        assert len(errors) == 1, (booking_id, letters)
        assert "23514" in errors[0] and clef not in errors[0] and "xxx" not in errors[0], errors[0]
    # The refused message is kept re-encoded without its customer (Kafka still holds it as sent).
    mine = [p for p in letters if any(i.encode() in p for i in poison)]
    assert not [p for p in mine if clef.encode() in p], "a dead letter's payload holds the customer"
    log = stack.processor.log()
    assert clef not in log, "the processor logged a customer's name"
    assert db.tier("GA") == (1000, 997)
    assert stack.processor.running() and stack.processor.proc.pid == pid
