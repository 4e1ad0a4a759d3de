"""Idempotency-Key (SPEC §2, §3): the same key always names the same booking, never a second booking or a
second decrement, and the booking keeps the first request's tier and quantity."""

from concurrent.futures import ThreadPoolExecutor

from helpers import Api, assert_final_booking, json_body, new_key


def post_with_key(api, tier, quantity, key):
    """POST /book with a key: 202 (pending) or 200 (already final, full booking object)."""
    resp = api.book(tier, quantity, key=key)
    assert resp.status_code in (200, 202), f"{resp.status_code}: {resp.text[:300]!r}"
    return resp.status_code, json_body(resp, resp.status_code)


def assert_one_booking(db, drain, tier, booking_id, quantity, capacity):
    """Exactly one row in the tier (the reset deleted the others), seats taken once. drain() first: every
    duplicate the ingress published has been applied, so a second decrement would show."""
    drain()
    rows = db.tier_rows(tier)
    assert [r.booking_id for r in rows] == [booking_id], rows
    assert (rows[0].quantity, rows[0].status) == (quantity, "confirmed")
    assert db.tier(tier) == (capacity, capacity - quantity)


def test_same_key_sequentially_is_one_booking(api, db, drain, reset_tier):
    reset_tier("GA", 1000)
    key = new_key()
    answers = [post_with_key(api, "GA", 2, key) for _ in range(5)]
    ids = {body["booking_id"] for _, body in answers}
    assert len(ids) == 1, answers
    (booking_id,) = ids
    assert_final_booking(api.wait_final(booking_id), "GA", 2, status="confirmed")
    assert_one_booking(db, drain, "GA", booking_id, 2, 1000)

    # Once final, the same key answers 200 with the whole booking object.
    status, body = post_with_key(api, "GA", 2, key)
    assert status == 200
    assert_final_booking(body, "GA", 2, status="confirmed")
    assert body["booking_id"] == booking_id
    assert_one_booking(db, drain, "GA", booking_id, 2, 1000)


def test_same_key_concurrently_is_one_booking(stack, api, db, drain, reset_tier):
    reset_tier("GA", 1000)
    key = new_key()

    def one(_):
        client = Api(stack.base_url)
        try:
            return post_with_key(client, "GA", 3, key)
        finally:
            client.session.close()

    with ThreadPoolExecutor(max_workers=32) as pool:
        answers = list(pool.map(one, range(64)))
    ids = {body["booking_id"] for _, body in answers}
    assert len(ids) == 1, f"{len(ids)} different booking ids for one key"
    (booking_id,) = ids
    assert_final_booking(api.wait_final(booking_id), "GA", 3, status="confirmed")
    assert_one_booking(db, drain, "GA", booking_id, 3, 1000)


def test_same_key_with_other_tier_and_quantity_keeps_the_first(api, db, drain, reset_tier):
    reset_tier("VIP", 100)
    reset_tier("GA", 1000)
    key = new_key()
    first = api.accepted("VIP", 1, key=key)
    # Sent as soon as the first is acknowledged, while it may still be pending.
    _, second = post_with_key(api, "GA", 3, key)
    assert second["booking_id"] == first["booking_id"]

    final = api.wait_final(first["booking_id"])
    assert_final_booking(final, "VIP", 1, status="confirmed")
    assert_one_booking(db, drain, "VIP", first["booking_id"], 1, 100)
    assert db.count_tier("GA") == 0 and db.tier("GA") == (1000, 1000), "the second request took GA seats"

    # And after the outcome is known, the same again: 200 with the first request's booking.
    status, third = post_with_key(api, "GA", 3, key)
    assert status == 200
    assert third == final
    assert_one_booking(db, drain, "VIP", first["booking_id"], 1, 100)
    assert db.tier("GA") == (1000, 1000)


def test_different_keys_and_no_key_are_different_bookings(api, db, reset_tier):
    reset_tier("GA", 1000)
    ids = [api.accepted("GA", 1, key=new_key())["booking_id"] for _ in range(2)]
    ids += [api.accepted("GA", 1)["booking_id"] for _ in range(2)]
    assert len(set(ids)) == 4, ids
    db.wait_decided(ids, 30)
    assert db.tier("GA") == (1000, 996)


def test_key_survives_an_ingress_restart(stack, api, db, drain, reset_tier):
    """"From any ingress instance, before or after a restart": both for a decided booking and for one
    still pending (the processor is stopped, so nothing can be decided in between)."""
    reset_tier("GA", 1000)
    decided_key, pending_key = new_key(), new_key()
    decided = api.accepted("GA", 1, key=decided_key)["booking_id"]
    api.wait_final(decided)

    stack.processor.stop()
    pending = api.accepted("GA", 2, key=pending_key)["booking_id"]
    stack.restart_ingress()
    api.reconnect()

    status, body = post_with_key(api, "GA", 1, decided_key)
    assert (status, body["booking_id"]) == (200, decided)
    status, body = post_with_key(api, "GA", 2, pending_key)
    assert (status, body["booking_id"]) == (202, pending)
    assert body.get("status") == "pending"

    stack.start_processor()
    assert_final_booking(api.wait_final(pending, timeout=60), "GA", 2, status="confirmed")
    drain()
    assert sorted(r.booking_id for r in db.tier_rows("GA")) == sorted([decided, pending])
    assert db.tier("GA") == (1000, 997)
