"""A sale opens: 2,000 concurrent one-ticket VIP requests for 100 seats (docs/design.md#invariants). Every request is
accepted, exactly 100 are confirmed — the first 100 in the partition — and the database agrees with
every reply."""

import asyncio

import aiohttp

from helpers import BOOKING_ID_RE, JSON_CT, assert_api_agrees, assert_tier_consistent

N_REQUESTS = 2000
N_CONNECTIONS = 300
SEATS = 100


async def _post_all(base_url, n, n_connections):
    connector = aiohttp.TCPConnector(limit=n_connections)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def one():
            async with session.post(base_url + "/book", json={"tier": "VIP", "quantity": 1},
                                    headers={"Content-Type": JSON_CT}) as resp:
                return resp.status, await resp.json(content_type=None), resp.headers.get("Location")

        return await asyncio.gather(*(one() for _ in range(n)), return_exceptions=True)


def test_burst_of_2000_for_100_seats(stack, db, drain, reset_tier):
    reset_tier("VIP", SEATS)

    replies = asyncio.run(_post_all(stack.base_url, N_REQUESTS, N_CONNECTIONS))
    failures = [r for r in replies if isinstance(r, BaseException) or r[0] != 202]
    assert not failures, f"{len(failures)} of {N_REQUESTS} requests not accepted, e.g. {failures[:5]!r}"
    ids = [body["booking_id"] for _, body, _ in replies]
    assert all(BOOKING_ID_RE.match(i) for i in ids)
    assert len(set(ids)) == N_REQUESTS, "booking ids are not unique"
    assert all(location == f"/bookings/{body['booking_id']}" for _, body, location in replies)
    assert all(body["status"] == "pending" for _, body, _ in replies)

    db.wait_decided(ids, 120, "burst bookings")
    drain()

    # The database: one row per reply and nothing else, first come first served, no oversell.
    rows = assert_tier_consistent(db, "VIP", SEATS, SEATS)
    assert sorted(r.booking_id for r in rows) == sorted(ids)
    confirmed = [r for r in rows if r.status == "confirmed"]
    rejected = [r for r in rows if r.status == "rejected"]
    assert (len(confirmed), len(rejected)) == (SEATS, N_REQUESTS - SEATS)
    assert max(r.kafka_offset for r in confirmed) < min(r.kafka_offset for r in rejected)
    assert db.tier("VIP") == (SEATS, 0)

    # The API: every booking reports what the database holds.
    assert_api_agrees(stack.base_url, rows)
