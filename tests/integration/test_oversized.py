"""Requests the HTTP library cannot hold or parse still get the API's answer: a complete HTTP response
with a JSON {"error": ...} body, never an HTML page, never a connection closed or left hanging without
an answer. Sizes are swept across both boundaries — half the per-connection pool, where bk-ingress
refuses a head itself, and the pool (BK_HTTP_CONN_MEMORY), where libmicrohttpd refuses it — for the
request line (with and without a query string) and for the header block, on a fresh connection and
after a first request on a kept-alive one. Raw sockets: an HTTP client would refuse to send some of it."""

import json
import os
import socket
import time
from urllib.parse import urlsplit

import pytest

POOL = int(os.environ.get("BK_HTTP_CONN_MEMORY", "16384"))
TIMEOUT_S = 5


def exchange(base_url, head: bytes, first: bytes = b""):
    """Sends `first` (a complete request, answered and kept alive) and then `head` on one connection;
    returns (status, headers, body) of the answer to `head`. Fails on a close or silence without one."""
    url = urlsplit(base_url)
    with socket.create_connection((url.hostname, url.port), timeout=TIMEOUT_S) as sock:
        buf = b""
        if first:
            sock.sendall(first)
            status, headers, body, buf = read_response(sock, buf)
            assert status == 200 and "close" not in headers.get("connection", ""), (status, headers)
        try:
            sock.sendall(head)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before it was all sent: the answer may still be waiting
        status, headers, body, _ = read_response(sock, buf)
        return status, headers, body


def read_response(sock, buf):
    deadline = time.monotonic() + TIMEOUT_S
    while b"\r\n\r\n" not in buf:
        buf += recv_some(sock, deadline, buf)
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        rest += recv_some(sock, deadline, buf + rest)
    return status, headers, rest[:length], rest[length:]


def recv_some(sock, deadline, so_far):
    sock.settimeout(max(0.05, deadline - time.monotonic()))
    try:
        data = sock.recv(65536)
    except socket.timeout:
        pytest.fail(f"no complete answer within {TIMEOUT_S} s; received {so_far[:120]!r}")
    except ConnectionResetError:
        pytest.fail(f"connection reset without a complete answer; received {so_far[:120]!r}")
    if not data:
        pytest.fail(f"connection closed without a complete answer; received {so_far[:120]!r}")
    return data


def request(target: str, extra: str = "") -> bytes:
    return f"GET {target} HTTP/1.1\r\nHost: test\r\n{extra}\r\n".encode()


def assert_json_error(answer, statuses):
    status, headers, body = answer
    assert status in statuses, (status, body[:200])
    assert headers.get("content-type", "").startswith("application/json"), (status, headers, body[:200])
    assert isinstance(json.loads(body).get("error"), str), body[:200]


# Target lengths around half the pool (bk-ingress's budget) and around the whole pool (the library's).
SIZES = sorted({POOL // 2 + d for d in range(-600, 601, 40)} | {POOL + d for d in range(-600, 601, 20)}
               | {POOL * 4, POOL * 64})

def expected_for(size):
    """Well under half the pool a head is read (a bad id, an unknown file); over it, refused (414 for
    the line, 431 for the head); near it, either, as the rest of the head decides."""
    if size < POOL // 2 - 300:
        return {400, 404}
    if size > POOL // 2:
        return {414, 431}
    return {400, 404, 414, 431}


SHAPES = {
    "query": lambda n: "/bookings/x?q=" + "a" * max(0, n - 14),  # the shape that once hung
    "path": lambda n: "/bookings/" + "a" * max(0, n - 10),
    "static": lambda n: "/" + "a" * max(0, n - 1),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_long_request_lines_get_json_at_every_size(stack, shape):
    for size in SIZES:
        answer = exchange(stack.base_url, request(SHAPES[shape](size)))
        assert_json_error(answer, expected_for(size))


def test_large_header_blocks_get_json_at_every_size(stack):
    for size in SIZES:
        answer = exchange(stack.base_url, request("/bookings/x", f"X-Pad: {'b' * size}\r\n"))
        assert_json_error(answer, expected_for(size) - {404})


@pytest.mark.parametrize("count", [10, 100, 200, 400, 1000, 4000])
def test_many_small_headers_get_json(stack, count):
    fields = "".join(f"X-{k}: v\r\n" for k in range(count))
    assert_json_error(exchange(stack.base_url, request("/bookings/x", fields)), {400, 431})


@pytest.mark.parametrize("size", [POOL // 2 + 200, POOL - 100, POOL * 4])
def test_oversized_request_after_a_kept_alive_one_gets_json(stack, size):
    first = request("/health")
    answer = exchange(stack.base_url, request(SHAPES["query"](size)), first=first)
    assert_json_error(answer, {414, 431})


@pytest.mark.parametrize("head,status", [
    (b"GET /health HTTP/9.9\r\nHost: test\r\n\r\n", 505),
    (b"GET /health HTTP/2.0\r\nHost: test\r\n\r\n", 505),
    (b"GET /health HTTP/1.1\r\nHost: test\r\nA header line without a colon\r\n\r\n", 400),
])
def test_requests_the_library_refuses_get_json(stack, head, status):
    answer_status, headers, body = exchange(stack.base_url, head)
    assert answer_status == status, (answer_status, body[:200])
    assert headers.get("content-type", "").startswith("application/json"), (status, headers, body[:200])
    assert isinstance(json.loads(body).get("error"), str), body[:200]


def test_the_ingress_stays_healthy_after_the_sweep(stack, api):
    assert api.request("GET", "/health").status_code == 200
