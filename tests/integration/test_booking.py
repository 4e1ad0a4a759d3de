"""POST /book and GET /bookings/{id} when everything goes right (docs/api.md), plus the request shapes that
must be accepted: unknown fields, limits at their boundary, multi-byte customers."""

import datetime as dt
import json
import time

import pytest

from helpers import (BOOKING_ID_RE, JSON_CT, PARTITION, PRICE, assert_final_booking, body_of_size, json_body,
                     new_key, wait_until)


@pytest.mark.happy
def test_book_then_poll_until_confirmed(api, db, reset_tier):
    reset_tier("VIP", 100)
    customer = "Ada Lovelace — row 1 ✓"
    sent_at = dt.datetime.now(dt.timezone.utc)

    resp = api.book("VIP", 2, customer=customer)
    body = json_body(resp, 202)
    booking_id = body.get("booking_id", "")
    assert BOOKING_ID_RE.match(booking_id), body
    assert resp.headers.get("Location") == f"/bookings/{booking_id}"
    assert body == {"booking_id": booking_id, "status": "pending", "tier": "VIP", "quantity": 2}

    final = api.wait_final(booking_id)
    assert_final_booking(final, "VIP", 2, status="confirmed")
    assert final["amount_cents"] == 20000
    assert final.get("customer") == customer  # docs/api.md: the booking object carries the customer
    created = dt.datetime.strptime(final["created_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)
    assert abs(created - sent_at) < dt.timedelta(seconds=60), (created, sent_at)

    # The database agrees with the reply, and keeps the customer.
    row = db.rows([booking_id])[booking_id]
    assert (row.tier, row.quantity, row.status, row.reason, row.amount_cents) == ("VIP", 2, "confirmed", None, 20000)
    assert row.customer == customer
    assert row.kafka_partition == PARTITION["VIP"]
    assert abs(row.created_at - created) < dt.timedelta(milliseconds=1)
    assert db.tier("VIP") == (100, 98)

    # /tickets may lag by up to 1 s (cache).
    def vip_available():
        return next(t["available"] for t in json_body(api.tickets(), 200) if t["tier"] == "VIP")

    wait_until(lambda: vip_available() == 98, 5, "GET /tickets to show VIP available 98",
               detail=lambda: f"VIP available: {vip_available()}")

    # A second GET gives the same final answer.
    assert api.booking(booking_id) == final


@pytest.mark.happy
def test_post_with_wait_answers_200_with_the_final_booking(api, db, reset_tier):
    reset_tier("VIP", 100)
    resp = api.book("VIP", 1, customer="waiter", wait=5000)
    body = json_body(resp, 200)
    assert_final_booking(body, "VIP", 1, status="confirmed")
    assert db.rows([body["booking_id"]])[body["booking_id"]].status == "confirmed"


@pytest.mark.happy
def test_get_with_wait_long_polls_until_final(api, db, reset_tier):
    reset_tier("VIP", 100)
    booking_id = api.accepted("VIP", 3)["booking_id"]
    started = time.monotonic()
    body = json_body(api.get_booking(booking_id, wait=5000), 200)
    elapsed = time.monotonic() - started
    assert_final_booking(body, "VIP", 3, status="confirmed")
    assert elapsed < 5.0, f"the long poll ran to its limit ({elapsed:.2f}s) although the booking was decided"
    assert db.tier("VIP") == (100, 97)


@pytest.mark.happy
def test_each_tier_is_consumed_from_its_own_partition(api, db, reset_tier):
    ids = {}
    for tier in PARTITION:
        reset_tier(tier)
        ids[tier] = api.accepted(tier, 1)["booking_id"]
    for tier, booking_id in ids.items():
        assert_final_booking(api.wait_final(booking_id), tier, 1, status="confirmed")
    rows = db.rows(ids.values())
    assert {tier: rows[booking_id].kafka_partition for tier, booking_id in ids.items()} == PARTITION


# (id, body, extra headers, quantity, customer stored in the database)
ACCEPTED = [
    ("unknown_fields_ignored", {"tier": "GA", "quantity": 1, "promo": "X", "seat": {"row": [1, 2]}}, {}, 1, None),
    ("quantity_at_limit", {"tier": "GA", "quantity": 10}, {}, 10, None),
    ("customer_one_char", {"tier": "GA", "quantity": 1, "customer": "x"}, {}, 1, "x"),
    ("customer_128_ascii", {"tier": "GA", "quantity": 1, "customer": "c" * 128}, {}, 1, "c" * 128),
    ("customer_128_two_byte_chars", {"tier": "GA", "quantity": 1, "customer": "é" * 128}, {}, 1, "é" * 128),
    ("customer_128_four_byte_chars", {"tier": "GA", "quantity": 1, "customer": "🎫" * 128}, {}, 1, "🎫" * 128),
    ("customer_json_escapes", {"tier": "GA", "quantity": 1, "customer": "Zoë \"Z\" O'Neil \\ \u00e9"}, {}, 1,
     "Zoë \"Z\" O'Neil \\ \u00e9"),
    ("content_type_without_charset", {"tier": "GA", "quantity": 1}, {"Content-Type": "application/json"}, 1, None),
    ("content_type_charset_upper", {"tier": "GA", "quantity": 1},
     {"Content-Type": "application/json; charset=UTF-8"}, 1, None),
    ("content_type_mixed_case", {"tier": "GA", "quantity": 1}, {"Content-Type": "Application/JSON"}, 1, None),
    ("idempotency_key_64_chars", {"tier": "GA", "quantity": 1}, {"Idempotency-Key": "k" * 30 + "-_" + "0" * 32}, 1,
     None),
    ("body_exactly_4_KiB", body_of_size(4096), {}, 1, None),
]


@pytest.mark.parametrize("body, headers, quantity, customer", [c[1:] for c in ACCEPTED], ids=[c[0] for c in ACCEPTED])
def test_accepted_request_shapes(api, db, reset_tier, body, headers, quantity, customer):
    reset_tier("GA")
    if "Idempotency-Key" in headers:
        headers = {**headers, "Idempotency-Key": headers["Idempotency-Key"][:32] + new_key()[-32:]}
    data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    resp = api.request("POST", "/book", data=data, headers={"Content-Type": JSON_CT, **headers})
    accepted = json_body(resp, 202)
    booking_id = accepted["booking_id"]
    assert_final_booking(api.wait_final(booking_id), "GA", quantity, status="confirmed")
    row = db.rows([booking_id])[booking_id]
    assert (row.quantity, row.customer, row.amount_cents) == (quantity, customer, quantity * PRICE["GA"])


def ms_text(ts):
    """A database timestamp as the API writes it: RFC 3339 UTC, milliseconds."""
    return ts.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


@pytest.mark.happy
def test_answers_from_memory_match_the_database_exactly(stack, api, db, reset_tier):
    """The ingress answers most status questions from the outcomes the processor announces (docs/api.md,
    "Where answers come from"); after a restart it has no memory and reads PostgreSQL. Both must give
    the same bytes of every field, for confirmed and rejected bookings and customers that need escaping."""
    reset_tier("VIP", 3)
    customers = ["back\\slash \\x41 and \"quotes\"", "  spaced  out  ", "Zoë 😀 日本", None]
    ids = [api.accepted("VIP", 1, customer=c)["booking_id"] for c in customers]  # the fourth is sold out
    from_memory = [api.wait_final(i) for i in ids]
    rows = db.rows(ids)
    for body, customer in zip(from_memory, customers):
        row = rows[body["booking_id"]]
        assert body["status"] == row.status and body.get("customer") == customer == row.customer, (body, row)
        assert (body["created_at"], body["decided_at"]) == (ms_text(row.created_at), ms_text(row.decided_at)), \
            (body, row)
    assert [b["status"] for b in from_memory] == ["confirmed"] * 3 + ["rejected"]

    stack.restart_ingress()
    api.reconnect()
    assert [api.booking(i) for i in ids] == from_memory
