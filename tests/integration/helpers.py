"""Shared helpers for the integration tests: bounded polling, the HTTP client, the database and the
Kafka probe, plus the reference model of docs/design.md (apply the messages one by one in offset order).

Nothing here is a mock: every helper talks to the real ingress, PostgreSQL or Kafka broker.
"""

import asyncio
import base64
import contextlib
import datetime as dt
import json
import os
import re
import time
import uuid
from dataclasses import dataclass

import aiohttp
import psycopg
import requests

TOPIC = os.environ.get("BK_KAFKA_TOPIC", "bookings")


def load_tiers(dsn=None):
    """The tier catalogue as the services read it at start: the tiers table, in position (= Kafka
    partition, = GET /tickets) order, as (code, name, price in cents, seats, partition)."""
    dsn = dsn or os.environ.get("BK_PG_DSN")
    if not dsn:
        raise RuntimeError("BK_PG_DSN is not set: the tier catalogue is read from the database "
                           "(eval \"$(./bk --test env)\")")
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT tier, name, price_cents, capacity, position FROM tiers ORDER BY position")
        return [tuple(row) for row in rows.fetchall()]


# Read once per session, before any test changes a capacity; the session restores these seats at its end.
TIERS = load_tiers()
TIER_CODES = [t[0] for t in TIERS]
PRICE = {t[0]: t[2] for t in TIERS}
SEATS = {t[0]: t[3] for t in TIERS}
PARTITION = {t[0]: t[4] for t in TIERS}

JSON_CT = "application/json; charset=utf-8"
BOOKING_ID_RE = re.compile(r"^[A-Za-z0-9_-]{32}$")
TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
SOLD_OUT_MESSAGE = "Not enough tickets available"
FINAL = ("confirmed", "rejected")


# --- waiting -----------------------------------------------------------------------------------------


# Checks run on every poll of wait_until; conftest registers one that raises as soon as one of our
# services died unexpectedly, so a crash is reported as a crash, not as a timeout half a minute later.
WAIT_GUARDS = []


def wait_until(cond, timeout, what, interval=0.02, detail=None):
    """Poll cond() until it returns a truthy value (returned) or `timeout` seconds pass (AssertionError
    naming `what`, plus detail() if given). The only way tests wait for anything."""
    deadline = time.monotonic() + timeout
    while True:
        for guard in WAIT_GUARDS:
            guard(what)
        value = cond()
        if value:
            return value
        if time.monotonic() >= deadline:
            extra = ""
            if detail is not None:
                try:
                    extra = f"\n{detail()}"
                except Exception as exc:  # the detail is a courtesy; never hide the timeout
                    extra = f"\n(detail failed: {exc!r})"
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}{extra}")
        time.sleep(interval)


def new_key():
    """A fresh Idempotency-Key: keys are never reused across tests or runs (the ids they map to
    may have been deleted by a later reset)."""
    return "itest-" + uuid.uuid4().hex


def random_booking_id():
    """A syntactically valid booking id (32 chars base64url) that the ingress never signed."""
    return base64.urlsafe_b64encode(os.urandom(24)).decode("ascii")


def tamper(booking_id, index=-1):
    """The same id with one character changed: right shape, wrong signature."""
    chars = list(booking_id)
    chars[index] = "B" if chars[index] != "B" else "C"
    return "".join(chars)


def body_of_size(n_bytes, tier="GA"):
    """A valid one-ticket booking whose JSON body is exactly n_bytes long, padded with an unknown field."""
    base = {"tier": tier, "quantity": 1, "pad": ""}
    pad = n_bytes - len(json.dumps(base, separators=(",", ":")).encode())
    assert pad >= 0
    base["pad"] = "x" * pad
    body = json.dumps(base, separators=(",", ":")).encode()
    assert len(body) == n_bytes
    return body


def parse_ts(text):
    assert isinstance(text, str) and TIMESTAMP_RE.match(text), f"not RFC 3339 UTC with ms: {text!r}"
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)


# --- HTTP --------------------------------------------------------------------------------------------


def content_type_is_json(resp):
    ct = resp.headers.get("Content-Type", "")
    return ct.replace(" ", "").lower() == JSON_CT.replace(" ", "")


def json_body(resp, status):
    """Assert the status and the JSON content type (docs/api.md), return the decoded body."""
    assert resp.status_code == status, (
        f"{resp.request.method} {resp.request.url}: expected {status}, got {resp.status_code}: {resp.text[:500]!r}"
    )
    assert content_type_is_json(resp), f"Content-Type {resp.headers.get('Content-Type')!r}, want {JSON_CT!r}"
    return resp.json()


def error_body(resp, status, field=None):
    """Assert an API error (docs/api.md): the status, JSON `{"error": "<sentence>"}` plus an optional "field".
    `field`: None = not checked, a string = must equal, a tuple = one of (None in it = may be absent)."""
    body = json_body(resp, status)
    assert isinstance(body, dict), f"error body is not an object: {body!r}"
    assert set(body) <= {"error", "field"}, f"unexpected keys in error body: {body!r}"
    assert isinstance(body.get("error"), str) and body["error"].strip(), f"no error sentence: {body!r}"
    if isinstance(field, str):
        assert body.get("field") == field, f"field: want {field!r}, got {body!r}"
    elif isinstance(field, tuple):
        assert body.get("field") in field, f"field: want one of {field!r}, got {body!r}"
    return body


class Api:
    """The ingress's HTTP API. One requests.Session per instance: make one per thread."""

    def __init__(self, base_url, timeout=15.0):
        self.base = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()

    def reconnect(self):
        """Drop pooled keep-alive connections (needed after the ingress was restarted)."""
        self.session.close()
        self.session = requests.Session()

    def url(self, path):
        return self.base + path

    def request(self, method, path, **kw):
        kw.setdefault("timeout", self.timeout)
        kw.setdefault("allow_redirects", False)
        return self.session.request(method, self.url(path), **kw)

    def health(self):
        return self.request("GET", "/health")

    def tickets(self):
        return self.request("GET", "/tickets")

    def book(self, tier, quantity, customer=None, key=None, wait=None, extra=None):
        body = {"tier": tier, "quantity": quantity}
        if customer is not None:
            body["customer"] = customer
        if extra:
            body.update(extra)
        headers = {"Content-Type": JSON_CT}
        if key is not None:
            headers["Idempotency-Key"] = key
        params = {"wait": wait} if wait is not None else None
        return self.request("POST", "/book", data=json.dumps(body).encode(), headers=headers, params=params)

    def accepted(self, tier, quantity, **kw):
        """POST /book that must be accepted (202); returns the body, with the Location checked."""
        resp = self.book(tier, quantity, **kw)
        body = json_body(resp, 202)
        assert BOOKING_ID_RE.match(body.get("booking_id", "")), body
        assert resp.headers.get("Location") == f"/bookings/{body['booking_id']}", resp.headers
        return body

    def get_booking(self, booking_id, wait=None):
        params = {"wait": wait} if wait is not None else None
        return self.request("GET", f"/bookings/{booking_id}", params=params)

    def booking(self, booking_id):
        body = json_body(self.get_booking(booking_id), 200)
        assert body.get("booking_id") == booking_id, body
        return body

    def wait_final(self, booking_id, timeout=30.0):
        """Poll GET /bookings/{id} (no long-poll, so this does not depend on ?wait) until final."""
        last = {}

        def final():
            last["body"] = self.booking(booking_id)
            return last["body"] if last["body"].get("status") in FINAL else None

        return wait_until(final, timeout, f"booking {booking_id} to be final", interval=0.05,
                          detail=lambda: f"last body: {last.get('body')!r}")


def get_bookings(base_url, booking_ids, n_connections=50):
    """GET /bookings/{id} for many ids concurrently: [(status code, JSON content type?, body)] in order."""

    async def run():
        connector = aiohttp.TCPConnector(limit=n_connections)
        timeout = aiohttp.ClientTimeout(total=120)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

            async def one(booking_id):
                async with session.get(f"{base_url}/bookings/{booking_id}") as resp:
                    return resp.status, content_type_is_json(resp), await resp.json(content_type=None)

            return await asyncio.gather(*(one(i) for i in booking_ids))

    return asyncio.run(run())


def assert_api_agrees(base_url, rows):
    """Every booking row is reported by GET /bookings/{id} with the same outcome."""
    rows = list(rows)
    answers = get_bookings(base_url, [r.booking_id for r in rows])
    for row, (status, ok_type, body) in zip(rows, answers):
        assert status == 200 and ok_type, (row.booking_id, status, body)
        assert body.get("booking_id") == row.booking_id and body.get("status") == row.status, (body, row)
        assert (body.get("tier"), body.get("quantity")) == (row.tier, row.quantity), (body, row)
        if row.status == "rejected":
            assert (body.get("reason"), body.get("message")) == ("sold_out", SOLD_OUT_MESSAGE), body
        else:
            assert (body.get("amount_cents"), body.get("currency")) == (row.amount_cents, "USD"), body


def assert_final_booking(body, tier, quantity, status=None):
    """The booking object (docs/api.md) of a decided booking."""
    assert BOOKING_ID_RE.match(body.get("booking_id", "")), body
    assert body.get("tier") == tier, body
    assert body.get("quantity") == quantity, body
    assert body.get("status") in FINAL, body
    if status is not None:
        assert body["status"] == status, body
    assert body.get("currency") == "USD", body
    assert isinstance(body.get("amount_cents"), int), body
    created, decided = parse_ts(body.get("created_at")), parse_ts(body.get("decided_at"))
    assert created <= decided, body
    if body["status"] == "confirmed":
        assert body["amount_cents"] == quantity * PRICE[tier], body
        assert "reason" not in body and "message" not in body, f"reason/message are for rejected only: {body!r}"
    else:
        assert body.get("reason") == "sold_out", body
        assert body.get("message") == SOLD_OUT_MESSAGE, body
    return body


# --- database ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    booking_id: str
    tier: str
    quantity: int
    customer: object
    status: str
    reason: object
    amount_cents: int
    created_at: dt.datetime
    decided_at: dt.datetime
    kafka_partition: int
    kafka_offset: int


ROW_COLUMNS = ", ".join(Row.__dataclass_fields__)


class Db:
    """Autocommit psycopg 3 connection to the project's database; read-mostly, plus test resets."""

    def __init__(self, dsn):
        self.conn = psycopg.connect(dsn, autocommit=True)

    def close(self):
        self.conn.close()

    def one(self, sql, params=()):
        return self.conn.execute(sql, params).fetchone()

    def all(self, sql, params=()):
        return self.conn.execute(sql, params).fetchall()

    def tier(self, tier):
        """(capacity, available) of a tier."""
        return self.one("SELECT capacity, available FROM tiers WHERE tier = %s", (tier,))

    def available(self, tier):
        return self.tier(tier)[1]

    def snapshot(self):
        """What bad input must not change: every tier's row and the number of bookings."""
        tiers = self.all("SELECT tier, capacity, available FROM tiers ORDER BY position")
        (n_bookings,) = self.one("SELECT count(*) FROM bookings")
        return {"tiers": tiers, "bookings": n_bookings}

    def set_tier(self, tier, capacity, available):
        self.conn.execute("UPDATE tiers SET capacity = %s, available = %s WHERE tier = %s",
                          (capacity, available, tier))

    def delete_bookings(self, tier):
        self.conn.execute("DELETE FROM bookings WHERE tier = %s", (tier,))

    def rows(self, booking_ids):
        """{booking_id: Row} for the given ids that have a row (i.e. are decided)."""
        found = self.all(f"SELECT {ROW_COLUMNS} FROM bookings WHERE booking_id = ANY(%s)", (list(booking_ids),))
        return {r[0]: Row(*r) for r in found}

    def tier_rows(self, tier):
        """Every booking row of a tier, in Kafka offset order."""
        found = self.all(f"SELECT {ROW_COLUMNS} FROM bookings WHERE tier = %s ORDER BY kafka_offset", (tier,))
        return [Row(*r) for r in found]

    def count_decided(self, booking_ids):
        (n,) = self.one("SELECT count(*) FROM bookings WHERE booking_id = ANY(%s)", (list(booking_ids),))
        return n

    def count_tier(self, tier):
        (n,) = self.one("SELECT count(*) FROM bookings WHERE tier = %s", (tier,))
        return n

    def next_offsets(self):
        """{partition: next_offset} stored by the processor for the bookings topic."""
        return dict(self.all("SELECT partition, next_offset FROM partition_offsets WHERE topic = %s", (TOPIC,)))

    def dead_letters(self, partition):
        return self.all("SELECT kafka_offset, payload, error FROM dead_letters WHERE topic = %s AND partition = %s"
                        " ORDER BY kafka_offset", (TOPIC, partition))

    def wait_decided(self, booking_ids, timeout, what="bookings"):
        ids = list(booking_ids)
        return wait_until(lambda: self.count_decided(ids) == len(ids), timeout,
                          f"all {len(ids)} {what} to be decided in the database", interval=0.1,
                          detail=lambda: f"decided: {self.count_decided(ids)} of {len(ids)}")


# --- Kafka -------------------------------------------------------------------------------------------


class KafkaProbe:
    """Reads the topic's watermarks and produces raw messages, with confluent-kafka."""

    def __init__(self, brokers):
        import confluent_kafka as ck  # imported here: the suite still collects without it

        self.ck = ck
        self.brokers = brokers
        self.consumer = ck.Consumer({
            "bootstrap.servers": brokers,
            "group.id": "bk-itest-probe-" + uuid.uuid4().hex,
            "enable.auto.commit": False,
        })
        md = self.consumer.list_topics(TOPIC, timeout=15)
        topic = md.topics.get(TOPIC)
        assert topic is not None and topic.error is None, f"topic {TOPIC!r} missing: {topic and topic.error}"
        self.partitions = sorted(topic.partitions)

    def close(self):
        self.consumer.close()

    def high_watermarks(self):
        tp = self.ck.TopicPartition
        return {p: self.consumer.get_watermark_offsets(tp(TOPIC, p), timeout=15, cached=False)[1]
                for p in self.partitions}

    def produce(self, partition, value, key=None):
        """Produce one raw message (acks=all) and return its offset."""
        producer = self.ck.Producer({"bootstrap.servers": self.brokers, "acks": "all"})
        delivered = {}

        def on_delivery(err, msg):
            delivered["err"], delivered["offset"] = err, msg.offset()

        producer.produce(TOPIC, value=value, key=key, partition=partition, on_delivery=on_delivery)
        remaining = producer.flush(15)
        assert remaining == 0 and "err" in delivered, "raw produce was not delivered within 15 s"
        assert delivered["err"] is None, f"raw produce failed: {delivered['err']}"
        return delivered["offset"]

    def read(self, partition, offset, timeout=15.0):
        """The value of the message at (partition, offset)."""
        consumer = self.ck.Consumer({
            "bootstrap.servers": self.brokers,
            "group.id": "bk-itest-reader-" + uuid.uuid4().hex,
            "enable.auto.commit": False,
        })
        try:
            consumer.assign([self.ck.TopicPartition(TOPIC, partition, offset)])
            msg = wait_until(lambda: _poll_value(consumer), timeout, f"message {TOPIC}/{partition}@{offset}")
            assert msg.offset() == offset, (msg.offset(), offset)
            return msg.value()
        finally:
            consumer.close()


def _poll_value(consumer):
    msg = consumer.poll(0.2)
    if msg is None or msg.error():
        return None
    return msg


class Drainer:
    """Waits until the processor has applied everything in the topic: for every partition the offset
    stored in PostgreSQL has reached the broker's high watermark. Because the ingress answers 202 only
    after the broker acknowledged, this covers every booking any earlier test was promised."""

    def __init__(self, db, kafka):
        self.db = db
        self.kafka = kafka

    def __call__(self, timeout=60.0):
        if self.kafka is None:
            return
        high = self.kafka.high_watermarks()

        def caught_up():
            stored = self.db.next_offsets()
            return all(stored.get(p, 0) >= h for p, h in high.items())

        wait_until(caught_up, timeout, f"the processor to apply every message up to the high watermarks {high}",
                   interval=0.05, detail=lambda: f"stored next offsets: {self.db.next_offsets()}")


# --- the reference model: one message at a time, in offset order (docs/design.md) -------------------


def sequential_outcomes(rows, available):
    """Apply bookings one by one in the given (offset) order with the guarded decrement.
    Returns ({booking_id: status}, available left)."""
    outcome = {}
    for row in rows:
        if row.quantity <= available:
            available -= row.quantity
            outcome[row.booking_id] = "confirmed"
        else:
            outcome[row.booking_id] = "rejected"
    return outcome, available


def assert_tier_consistent(db, tier, initial_available, capacity):
    """The invariants every load or fault test checks, for one tier whose rows were all created since it
    was reset to (capacity, initial_available): outcomes equal offset-order sequential application,
    sold + available = capacity, 0 <= available, one row per offset, rejected rows are sold_out."""
    rows = db.tier_rows(tier)
    offsets = [r.kafka_offset for r in rows]
    assert len(offsets) == len(set(offsets)), "two bookings share a Kafka offset"
    assert all(r.kafka_partition == PARTITION[tier] for r in rows), "a booking was consumed from the wrong partition"
    want, want_left = sequential_outcomes(rows, initial_available)
    wrong = [(r.kafka_offset, r.quantity, r.status, want[r.booking_id]) for r in rows if r.status != want[r.booking_id]]
    assert not wrong, f"{len(wrong)} outcomes are not first come, first served (offset, qty, got, want): {wrong[:10]}"
    assert all(r.status in FINAL for r in rows)
    cap, left = db.tier(tier)
    assert cap == capacity
    sold = sum(r.quantity for r in rows if r.status == "confirmed")
    assert left >= 0
    assert left == want_left, f"available {left}, sequential application leaves {want_left}"
    assert sold <= initial_available, f"oversold: {sold} seats confirmed, {initial_available} were available"
    assert sold + left == initial_available, f"sold {sold} + available {left} != {initial_available}"
    for r in rows:
        if r.status == "rejected":
            assert r.reason == "sold_out", r
        else:
            assert r.reason is None and r.amount_cents == r.quantity * PRICE[tier], r
    return rows


def client_ports(pid, server_port):
    """Local ports of the TCP connections process `pid` holds to 127.0.0.1:server_port (from /proc)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.startswith("socket:["):
                inodes.add(target[len("socket:["):-1])
    ports = set()
    with open("/proc/net/tcp") as table:
        for line in list(table)[1:]:
            fields = line.split()
            local, remote, inode = fields[1], fields[2], fields[9]
            if inode in inodes and int(remote.split(":")[1], 16) == server_port:
                ports.add(int(local.split(":")[1], 16))
    return ports


@contextlib.contextmanager
def tier_locked(dsn, tier):
    """Holds the tier's row lock (SELECT … FOR UPDATE in an open transaction) for the block: a processor
    batch of that tier then waits inside its transaction, after it locked the partition's offset row. This
    is how a scenario makes "mid-batch" or "requests in flight" a certainty instead of a race."""
    conn = psycopg.connect(dsn, connect_timeout=3)
    try:
        conn.execute("SELECT available FROM tiers WHERE tier = %s FOR UPDATE", (tier,))
        yield conn
    finally:
        with contextlib.suppress(psycopg.Error):
            conn.rollback()
        conn.close()
