"""Every bad request (docs/api.md) gets the right 4xx with a JSON error, publishes nothing and changes
nothing in the database; the ingress stays healthy. One table, one row per bad input."""

import json
from dataclasses import dataclass, field

import pytest

from helpers import (JSON_CT, TIER_CODES, Api, body_of_size, content_type_is_json, error_body, json_body,
                     random_booking_id, tamper)

NO_CT = object()  # sentinel: send no Content-Type header at all


def j(obj):
    return json.dumps(obj, ensure_ascii=False).encode()


@dataclass
class Bad:
    id: str
    status: int
    body: object = None  # bytes, or a callable returning an iterator (sent chunked)
    method: str = "POST"
    path: str = "/book"  # "{id}" / "{tampered}" are replaced with a real / forged booking id
    content_type: object = JSON_CT
    headers: dict = field(default_factory=dict)
    err_field: object = None  # the error's "field", see helpers.error_body
    names: tuple = ()  # strings the error sentence must contain
    allow: str = None  # 405: the method the Allow header must list


VALID = j({"tier": "GA", "quantity": 1})
TIERS_NAMED = tuple(TIER_CODES)
QTY_OR_PARSE = ("quantity", None)  # number overflow may be refused by the JSON parser itself
CUSTOMER_OR_PARSE = ("customer", None)

BAD = [
    # Not JSON, or not an object.
    Bad("malformed_json", 400, b'{"tier": "GA", "quantity": 1'),
    Bad("trailing_garbage", 400, b'{"tier": "GA", "quantity": 1} x'),
    Bad("empty_body", 400, b""),
    Bad("array_body", 400, b'[{"tier": "GA", "quantity": 1}]'),
    Bad("string_body", 400, b'"GA"'),
    Bad("number_body", 400, b"42"),
    Bad("null_body", 400, b"null"),
    Bad("deeply_nested_array", 400, b"[" * 2000 + b"]" * 2000),
    Bad("single_quotes", 400, b"{'tier': 'GA', 'quantity': 1}"),
    Bad("comment", 400, b'{"tier": "GA", /* c */ "quantity": 1}'),
    Bad("duplicate_tier_field", 400, b'{"tier": "VIP", "tier": "GA", "quantity": 1}'),
    Bad("nan_quantity", 400, b'{"tier": "GA", "quantity": NaN}'),
    # Invalid UTF-8 anywhere in the body (RFC 8259: JSON text is UTF-8).
    Bad("utf8_invalid_byte_in_customer", 400, b'{"tier":"GA","quantity":1,"customer":"\xff\xfe"}',
        err_field=CUSTOMER_OR_PARSE),
    Bad("utf8_overlong_in_customer", 400, b'{"tier":"GA","quantity":1,"customer":"\xc0\xaf"}',
        err_field=CUSTOMER_OR_PARSE),
    Bad("utf8_surrogate_in_customer", 400, b'{"tier":"GA","quantity":1,"customer":"\xed\xa0\x80"}',
        err_field=CUSTOMER_OR_PARSE),
    Bad("utf8_truncated_in_customer", 400, b'{"tier":"GA","quantity":1,"customer":"ab\xe2\x82"}',
        err_field=CUSTOMER_OR_PARSE),
    Bad("utf8_invalid_in_ignored_field", 400, b'{"tier":"GA","quantity":1,"note":"\xff"}'),
    Bad("utf8_invalid_in_key", 400, b'{"tier":"GA","quantity":1,"\xfe":1}'),
    # tier
    Bad("missing_tier", 400, j({"quantity": 1}), err_field="tier", names=TIERS_NAMED),
    Bad("unknown_tier", 400, j({"tier": "BALCONY", "quantity": 1}), err_field="tier", names=TIERS_NAMED),
    Bad("lower_case_tier", 400, j({"tier": "vip", "quantity": 1}), err_field="tier", names=TIERS_NAMED),
    Bad("tier_with_space", 400, j({"tier": "GA ", "quantity": 1}), err_field="tier"),
    Bad("empty_tier", 400, j({"tier": "", "quantity": 1}), err_field="tier"),
    Bad("null_tier", 400, j({"tier": None, "quantity": 1}), err_field="tier"),
    Bad("number_tier", 400, j({"tier": 0, "quantity": 1}), err_field="tier"),
    # quantity: an integer in 1..10
    Bad("quantity_0", 400, j({"tier": "GA", "quantity": 0}), err_field="quantity"),
    Bad("quantity_11", 400, j({"tier": "GA", "quantity": 11}), err_field="quantity"),
    Bad("quantity_-1", 400, j({"tier": "GA", "quantity": -1}), err_field="quantity"),
    Bad("quantity_1.5", 400, j({"tier": "GA", "quantity": 1.5}), err_field="quantity"),
    Bad("quantity_string", 400, j({"tier": "GA", "quantity": "2"}), err_field="quantity"),
    Bad("quantity_null", 400, j({"tier": "GA", "quantity": None}), err_field="quantity"),
    Bad("quantity_true", 400, j({"tier": "GA", "quantity": True}), err_field="quantity"),
    Bad("quantity_array", 400, j({"tier": "GA", "quantity": [1]}), err_field="quantity"),
    Bad("quantity_2.0", 400, b'{"tier": "GA", "quantity": 2.0}', err_field="quantity"),
    Bad("quantity_2e0", 400, b'{"tier": "GA", "quantity": 2e0}', err_field="quantity"),
    Bad("quantity_missing", 400, j({"tier": "GA"}), err_field="quantity"),
    Bad("quantity_1e400", 400, b'{"tier": "GA", "quantity": 1e400}', err_field=QTY_OR_PARSE),
    Bad("quantity_huge_integer", 400, b'{"tier": "GA", "quantity": 99999999999999999999}', err_field=QTY_OR_PARSE),
    Bad("quantity_wraps_to_1", 400, b'{"tier": "GA", "quantity": 4294967297}', err_field="quantity"),
    # customer: a string of 1..128 characters
    Bad("customer_number", 400, j({"tier": "GA", "quantity": 1, "customer": 123}), err_field="customer"),
    Bad("customer_empty", 400, j({"tier": "GA", "quantity": 1, "customer": ""}), err_field="customer"),
    Bad("customer_129_chars", 400, j({"tier": "GA", "quantity": 1, "customer": "c" * 129}), err_field="customer"),
    Bad("customer_129_multibyte_chars", 400, j({"tier": "GA", "quantity": 1, "customer": "é" * 129}),
        err_field="customer"),
    Bad("customer_tab", 400, j({"tier": "GA", "quantity": 1, "customer": "a\tb"}), err_field="customer"),
    Bad("customer_nul", 400, j({"tier": "GA", "quantity": 1, "customer": "a\u0000b"}), err_field="customer"),
    Bad("customer_del", 400, j({"tier": "GA", "quantity": 1, "customer": "a\u007fb"}), err_field="customer"),
    Bad("customer_null", 400, j({"tier": "GA", "quantity": 1, "customer": None}), err_field="customer"),
    Bad("customer_bool", 400, j({"tier": "GA", "quantity": 1, "customer": True}), err_field="customer"),
    Bad("customer_object", 400, j({"tier": "GA", "quantity": 1, "customer": {"name": "x"}}), err_field="customer"),
    # size and content type
    Bad("body_4_KiB_plus_1", 413, body_of_size(4097)),
    Bad("body_8_KiB", 413, body_of_size(8192)),
    Bad("body_8_KiB_chunked", 413, lambda: iter([VALID[:-1], b',"pad":"' + b"x" * 8192 + b'"}'])),
    Bad("content_type_text_plain", 415, VALID, content_type="text/plain"),
    Bad("content_type_missing", 415, VALID, content_type=NO_CT),
    Bad("content_type_form", 415, b"tier=GA&quantity=1", content_type="application/x-www-form-urlencoded"),
    Bad("content_type_json_prefix", 415, VALID, content_type="application/jsonx"),
    Bad("content_type_latin1_charset", 415, VALID, content_type="application/json; charset=iso-8859-1"),
    # Idempotency-Key: 1..64 chars of [A-Za-z0-9_-]
    Bad("idempotency_key_65_chars", 400, VALID, headers={"Idempotency-Key": "k" * 65}, err_field="Idempotency-Key"),
    Bad("idempotency_key_with_space", 400, VALID, headers={"Idempotency-Key": "a b"}, err_field="Idempotency-Key"),
    Bad("idempotency_key_empty", 400, VALID, headers={"Idempotency-Key": ""}, err_field="Idempotency-Key"),
    Bad("idempotency_key_dot", 400, VALID, headers={"Idempotency-Key": "a.b"}, err_field="Idempotency-Key"),
    Bad("idempotency_key_non_ascii", 400, VALID, headers={"Idempotency-Key": "cl\xe9".encode("latin-1")},
        err_field="Idempotency-Key"),
    # ?wait: an integer in 0..5000
    Bad("post_wait_abc", 400, VALID, path="/book?wait=abc", err_field="wait"),
    Bad("post_wait_6000", 400, VALID, path="/book?wait=6000", err_field="wait"),
    Bad("post_wait_5001", 400, VALID, path="/book?wait=5001", err_field="wait"),
    Bad("post_wait_-1", 400, VALID, path="/book?wait=-1", err_field="wait"),
    Bad("post_wait_empty", 400, VALID, path="/book?wait=", err_field="wait"),
    Bad("post_wait_fraction", 400, VALID, path="/book?wait=1.5", err_field="wait"),
    Bad("get_wait_abc", 400, method="GET", path="/bookings/{id}?wait=abc", err_field="wait"),
    Bad("get_wait_6000", 400, method="GET", path="/bookings/{id}?wait=6000", err_field="wait"),
    Bad("get_wait_-1", 400, method="GET", path="/bookings/{id}?wait=-1", err_field="wait"),
    # booking ids: 32 chars of base64url, signed by the ingress
    Bad("id_short", 400, method="GET", path="/bookings/abc"),
    Bad("id_31_chars", 400, method="GET", path="/bookings/" + "A" * 31),
    Bad("id_33_chars", 400, method="GET", path="/bookings/" + "A" * 33),
    Bad("id_with_bang", 400, method="GET", path="/bookings/" + "A" * 31 + "!"),
    Bad("id_with_padding", 400, method="GET", path="/bookings/" + "A" * 31 + "="),
    Bad("id_with_plus", 400, method="GET", path="/bookings/" + "A" * 31 + "+"),
    Bad("id_with_dot", 400, method="GET", path="/bookings/" + "A" * 31 + "."),
    Bad("id_forged_all_A", 404, method="GET", path="/bookings/" + "A" * 32),
    Bad("id_forged_random", 404, method="GET", path="/bookings/" + random_booking_id()),
    Bad("id_forged_random_with_wait", 404, method="GET", path="/bookings/" + random_booking_id() + "?wait=1000"),
    Bad("id_tampered_last_char", 404, method="GET", path="/bookings/{tampered}"),
    # methods and paths
    Bad("get_book", 405, method="GET", allow="POST"),
    Bad("put_book", 405, VALID, method="PUT", allow="POST"),
    Bad("delete_tickets", 405, method="DELETE", path="/tickets", allow="GET"),
    Bad("post_tickets", 405, VALID, method="POST", path="/tickets", allow="GET"),
    Bad("post_health", 405, VALID, method="POST", path="/health", allow="GET"),
    Bad("delete_booking", 405, method="DELETE", path="/bookings/{id}", allow="GET"),
    Bad("unknown_path_get", 404, method="GET", path="/nope"),
    Bad("unknown_path_post", 404, VALID, method="POST", path="/nope"),
    Bad("unknown_api_path", 404, method="GET", path="/v1/tickets"),
]


@pytest.fixture(scope="module")
def issued_id(stack):
    """A booking id the ingress really issued (decided), for the GET cases."""
    client = Api(stack.base_url)
    booking_id = client.accepted("GA", 1)["booking_id"]
    client.wait_final(booking_id)
    client.session.close()
    return booking_id


# Also run under the sanitizer build: every refusal path must be free of leaks (a malformed-input
# test keeps running under LeakSanitizer, so a yajl that leaks on bad JSON is caught).
@pytest.mark.happy
@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in BAD])
def test_bad_input_is_refused_and_changes_nothing(api, issued_id, unchanged, case):
    path = case.path.replace("{id}", issued_id).replace("{tampered}", tamper(issued_id))
    headers = dict(case.headers)
    if case.content_type is not NO_CT and case.body is not None:
        headers["Content-Type"] = case.content_type
    body = case.body() if callable(case.body) else case.body

    with unchanged():
        resp = api.request(case.method, path, data=body, headers=headers)
        err = error_body(resp, case.status, field=case.err_field)

    for name in case.names:
        assert name in err["error"], f"the error should name {name}: {err!r}"
    if case.allow is not None:
        allowed = {m.strip().upper() for m in resp.headers.get("Allow", "").split(",")}
        assert case.allow in allowed, f"Allow: {resp.headers.get('Allow')!r}, want {case.allow}"
        assert case.method not in allowed, f"Allow lists the refused method: {resp.headers.get('Allow')!r}"
    assert json_body(api.health(), 200)["status"] == "ok"


@pytest.mark.happy
def test_ingress_is_healthy_after_all_bad_input(api):
    assert json_body(api.health(), 200) == {"status": "ok", "kafka": "ok", "database": "ok"}
    resp = api.tickets()
    assert resp.status_code == 200 and content_type_is_json(resp)
