"""Idempotency-Key (docs/api.md "Idempotency-Key"): the same key always names the same booking, never a
second booking or a second decrement, and the booking keeps the first request's tier, quantity and customer.
A key is bound to the first request's body: the same key with another body is 422, on any ingress, and a
replay never shows another request's customer. Keys are 8 to 64 characters, so none is trivially guessed."""

import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import pytest

import conftest
from helpers import Api, assert_final_booking, error_body, json_body, new_key, wait_until
from test_health import FreezableProxy

OTHER_REQUEST = "used for another request"


def start_ingress(cfg, tmp_path_factory, offset, name, **env):
    """A second bk-ingress; returns (Api, Service)."""
    base, ingress = conftest.start_ingress(cfg, tmp_path_factory.mktemp(name), offset, name, **env)
    return Api(base), ingress


@pytest.fixture(scope="module")
def ingress_b(cfg, tmp_path_factory):
    """A second ingress on the same database and broker (another instance behind a load balancer)."""
    api_b, ingress = start_ingress(cfg, tmp_path_factory, 2, "ingress-b")
    wait_until(lambda: api_b.health().status_code == 200, 30, "the second ingress to be healthy",
               detail=ingress.tail)
    yield api_b
    api_b.session.close()
    ingress.stop()


def assert_other_request(resp):
    """422: the key belongs to another request; nothing of that request is shown."""
    body = error_body(resp, 422)
    assert OTHER_REQUEST in body["error"], body
    return body


def post_with_key(api, tier, quantity, key, customer=None):
    """POST /book with a key: 202 (pending) or 200 (already final, full booking object)."""
    resp = api.book(tier, quantity, key=key, customer=customer)
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


@pytest.mark.parametrize("key", ["a", "order-4", "1234567"])
def test_short_keys_are_refused(api, key, unchanged):
    """A short key is a guessable one: 8 characters at least."""
    with unchanged():
        error_body(api.book("GA", 1, key=key), 400, field="Idempotency-Key")


def test_same_key_with_another_body_is_422_and_keeps_the_first(api, db, drain, reset_tier):
    reset_tier("VIP", 100)
    reset_tier("GA", 1000)
    key = new_key()
    first = api.accepted("VIP", 1, key=key, customer="Ada")
    # Sent as soon as the first is acknowledged, while it may still be pending: memory tells.
    for tier, quantity, customer in (("GA", 3, "Ada"), ("VIP", 2, "Ada"), ("VIP", 1, "Eve"), ("VIP", 1, None)):
        assert_other_request(api.book(tier, quantity, key=key, customer=customer))

    final = api.wait_final(first["booking_id"])
    assert_final_booking(final, "VIP", 1, status="confirmed")
    assert_one_booking(db, drain, "VIP", first["booking_id"], 1, 100)
    assert db.count_tier("GA") == 0 and db.tier("GA") == (1000, 1000), "the second request took GA seats"

    # After the outcome is known: still 422 for another body, 200 with the booking for the same one.
    assert_other_request(api.book("GA", 3, key=key, customer="Ada"))
    status, same = post_with_key(api, "VIP", 1, key, customer="Ada")
    assert (status, same) == (200, final)
    assert_one_booking(db, drain, "VIP", first["booking_id"], 1, 100)
    assert db.tier("GA") == (1000, 1000)


def test_a_replay_never_shows_another_requests_customer(stack, api, db, drain, reset_tier):
    """Someone who guessed a key and the tier and quantity, but not the customer, learns nothing; not from
    memory, not (after a restart has emptied it) from the database."""
    reset_tier("GA", 1000)
    key = new_key()
    booking_id = api.accepted("GA", 2, key=key, customer="Ada Lovelace")["booking_id"]
    assert api.wait_final(booking_id)["customer"] == "Ada Lovelace"
    for restart in (False, True):
        if restart:
            stack.restart_ingress()
            api.reconnect()
        for customer in ("Eve", None):
            resp = api.book("GA", 2, key=key, customer=customer)
            body = assert_other_request(resp)
            assert "Ada" not in resp.text and booking_id not in resp.text, body
    drain()
    assert [r.booking_id for r in db.tier_rows("GA")] == [booking_id]


def test_same_key_other_tier_on_two_ingresses_first_claim_wins(stack, api, ingress_b, db, drain, reset_tier):
    """The processor is stopped, so both requests meet while the first is pending and neither ingress has
    an outcome to go by: the first request's claim decides, the second is told so, and only the first is
    ever booked."""
    reset_tier("VIP", 100)
    reset_tier("GA", 1000)
    key = new_key()
    stack.processor.stop()
    try:
        first = api.accepted("VIP", 1, key=key)
        assert (first["tier"], first["quantity"]) == ("VIP", 1)
        assert_other_request(ingress_b.book("GA", 1, key=key))
        # The same body on the other ingress is the same booking, and says so truthfully.
        again = ingress_b.accepted("VIP", 1, key=key)
        assert again == first
    finally:
        stack.start_processor()
    final = api.wait_final(first["booking_id"], timeout=60)
    assert_final_booking(final, "VIP", 1, status="confirmed")
    assert_one_booking(db, drain, "VIP", first["booking_id"], 1, 100)
    assert db.count_tier("GA") == 0 and db.tier("GA") == (1000, 1000)
    assert ingress_b.booking(first["booking_id"]) == final


def test_a_keyed_request_without_the_database_is_503(cfg, tmp_path_factory, reset_tier):
    """Without PostgreSQL the ingress cannot tell whether a key was used: it promises nothing (503 with
    Retry-After) rather than risk a 202 for a request that another ingress refused. Without a key
    there is nothing to check: the booking goes through. The ingress reads the tier catalogue from
    PostgreSQL before it serves, so the database goes away after its start (a proxy closed)."""
    reset_tier("GA", 1000)
    dsn = urllib.parse.urlparse(cfg["BK_PG_DSN"])
    proxy = FreezableProxy(dsn.hostname, dsn.port)
    proxied_dsn = dsn._replace(netloc=f"{dsn.username}:{dsn.password}@127.0.0.1:{proxy.port}").geturl()
    try:
        api_c, ingress = start_ingress(cfg, tmp_path_factory, 3, "ingress-nodb", BK_PG_DSN=proxied_dsn)
    finally:
        proxy.close()
    try:
        resp = api_c.book("GA", 1, key=new_key())
        error_body(resp, 503)
        assert int(resp.headers["Retry-After"]) >= 1
        plain = api_c.accepted("GA", 1)
        assert plain["tier"] == "GA"
    finally:
        api_c.session.close()
        ingress.stop()


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
