"""Abuse limits of the ingress (docs/api.md "Limits"): per-client token bucket (429 + Retry-After),
per-client connection cap, a deadline on receiving a request (a client sending a byte a second is
cut off), CORS only for configured origins, X-Forwarded-For only from configured proxies, and
/metrics only for loopback (or configured) peers. A second ingress with strict settings runs beside
the suite's own; loopback is a client like any other (no address is exempt), so the strict
settings apply to these tests' own requests."""

import http.client
import socket
import subprocess
import time

import pytest
import requests

from conftest import start_ingress, wait_healthy
from helpers import wait_until

STRICT = {
    "BK_RATE_PER_S": "2",
    "BK_RATE_BURST": "3",
    "BK_CONNS_PER_CLIENT": "3",
    "BK_REQUEST_TIMEOUT_S": "2",
    "BK_CORS_ORIGINS": "https://tickets.example",
}


def start_strict(cfg, tmp_path_factory, offset, name, **extra):
    env = dict(STRICT, BK_HTTP_ADDR="0.0.0.0")
    env.update(extra)
    base, ingress = start_ingress(cfg, tmp_path_factory.mktemp(name), offset, name, **env)
    wait_healthy(base, ingress, f"the {name} ingress")
    return base, ingress


def own_address():
    """This machine's first non-loopback IPv4 address, or None: a peer the ingress must not trust."""
    try:
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        out = ""
    for addr in out.split():
        if addr.count(".") == 3 and not addr.startswith("127."):
            return addr
    return None


@pytest.fixture(scope="module")
def strict(cfg, tmp_path_factory):
    """No proxy configured: the client is always the peer."""
    base, ingress = start_strict(cfg, tmp_path_factory, 2, "strict-ingress")
    yield base, ingress
    ingress.stop()


@pytest.fixture(scope="module")
def proxied(cfg, tmp_path_factory):
    """Loopback is a configured proxy (a reverse proxy on the host): its X-Forwarded-For names the client.
    /metrics is also allowed to this machine's own non-loopback address."""
    addr = own_address()
    base, ingress = start_strict(cfg, tmp_path_factory, 3, "proxied-ingress", BK_TRUSTED_PROXIES="127.0.0.1/32",
                                 BK_METRICS_ALLOW="127.0.0.0/8" + (f",{addr}/32" if addr else ""))
    yield base, ingress
    ingress.stop()


def test_rate_limit_answers_429_with_retry_after_once_the_burst_is_spent(strict):
    base, _ = strict
    with requests.Session() as s:
        codes = [s.get(base + "/tickets", timeout=5).status_code for _ in range(6)]
        assert codes[:3] == [200, 200, 200], codes
        assert 429 in codes[3:], codes
        resp = s.get(base + "/tickets", timeout=5)
        assert resp.status_code == 429
        assert int(resp.headers["Retry-After"]) >= 1
        assert resp.json() == {"error": "too many requests, slow down"}
        # Health checks are never rate limited.
        assert s.get(base + "/health", timeout=5).status_code == 200
        # The bucket refills: after Retry-After a request goes through again.
        wait_until(lambda: s.get(base + "/tickets", timeout=5).status_code == 200, 5, "the bucket to refill")


def test_connection_cap_per_client(strict):
    base, ingress = strict
    port = int(base.rsplit(":", 1)[1])
    held = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
    try:
        wait_until(lambda: ingress.log().count("event=connection_refused") > 0 or _refused(port), 5,
                   "a fourth connection to be refused")
        assert "reason=per_client_cap" in ingress.log()
    finally:
        for sock in held:
            sock.close()
    # Once they are closed, the client may connect again.
    wait_until(lambda: not _refused(port), 5, "the client to be allowed again")


def _refused(port):
    """True if a request on a new connection gets no HTTP answer (the server closed it)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return not sock.recv(64).startswith(b"HTTP/1.1")
    except OSError:
        return True


def test_a_client_sending_a_byte_a_second_is_cut_off(strict):
    base, ingress = strict
    port = int(base.rsplit(":", 1)[1])
    started = time.monotonic()
    cut = False
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\n")
        for _ in range(8):  # bounded: 8 bytes, one every half second, far past the 2 s deadline
            try:
                sock.sendall(b"X")
                if sock.recv(1, socket.MSG_DONTWAIT) == b"":
                    cut = True
                    break
            except BlockingIOError:
                pass
            except OSError:
                cut = True
                break
            time.sleep(0.5)  # the slow client's pace, not synchronisation
    elapsed = time.monotonic() - started
    assert cut, "the slow client was never cut off"
    assert elapsed < 4.5, f"cut off only after {elapsed:.1f} s with a 2 s deadline"
    # The deadline thread logs right after it cuts: poll for the line rather than race it.
    wait_until(lambda: "event=request_timeout" in ingress.log(), 5, "the ingress to log the cut")


def test_cors_only_for_configured_origins(strict):
    base, _ = strict
    ok = requests.options(base + "/book", headers={"Origin": "https://tickets.example",
                                                   "Access-Control-Request-Method": "POST"}, timeout=5)
    assert ok.status_code == 204
    assert ok.headers["Access-Control-Allow-Origin"] == "https://tickets.example"
    assert "Idempotency-Key" in ok.headers["Access-Control-Allow-Headers"]
    other = requests.options(base + "/book", headers={"Origin": "https://evil.example"}, timeout=5)
    assert "Access-Control-Allow-Origin" not in other.headers
    # Every API answer to an allowed origin carries the header (a 429 too); others never do.
    allowed = requests.get(base + "/tickets", headers={"Origin": "https://tickets.example"}, timeout=5)
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://tickets.example"
    assert allowed.headers["Vary"] == "Origin"
    resp = requests.get(base + "/health", headers={"Origin": "https://evil.example"}, timeout=5)
    assert "Access-Control-Allow-Origin" not in resp.headers


def _spend(session, base, headers=None, n=6):
    """GET /tickets n times; the status codes."""
    return [session.get(base + "/tickets", headers=headers, timeout=5).status_code for _ in range(n)]


def test_loopback_is_not_exempt(strict):
    """The documented local reverse proxy makes every client a loopback peer: loopback gets no pass."""
    base, _ = strict
    with requests.Session() as s:
        codes = _spend(s, base)
        assert 429 in codes, codes


def test_forwarded_for_from_an_untrusted_peer_is_ignored(strict):
    base, _ = strict
    with requests.Session() as s:
        wait_until(lambda: 429 in _spend(s, base, n=1), 10, "the loopback bucket to be spent")
        # A forged header does not make a new client.
        for fake in ("198.51.100.1", "198.51.100.2, 198.51.100.3"):
            assert s.get(base + "/tickets", headers={"X-Forwarded-For": fake}, timeout=5).status_code == 429


def test_forwarded_for_from_a_trusted_proxy_names_the_client(proxied):
    base, _ = proxied
    with requests.Session() as s:
        one = {"X-Forwarded-For": "203.0.113.7"}
        codes = _spend(s, base, one)
        assert codes[:3] == [200, 200, 200] and 429 in codes[3:], codes
        # Another client behind the same proxy has its own bucket.
        assert s.get(base + "/tickets", headers={"X-Forwarded-For": "203.0.113.8"}, timeout=5).status_code == 200
        # The proxy appends the address it saw: what the client wrote to the left of it is not believed.
        forged = {"X-Forwarded-For": "203.0.113.9, 203.0.113.7"}
        assert s.get(base + "/tickets", headers=forged, timeout=5).status_code == 429
        # Nor can a client hide behind a second header (HAProxy adds its own after the client's).
        assert _get_with_headers(base, "/tickets", [("X-Forwarded-For", "203.0.113.10"),
                                                    ("X-Forwarded-For", "203.0.113.7")]) == 429


def _get_with_headers(base, path, headers):
    """GET with a header sent more than once (requests folds them): the status code."""
    host, port = base.rsplit("/", 1)[1].rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        conn.putrequest("GET", path)
        for name, value in headers:
            conn.putheader(name, value)
        conn.endheaders()
        return conn.getresponse().status
    finally:
        conn.close()


def test_metrics_only_for_loopback_or_configured_peers(strict, proxied):
    base, _ = strict
    assert requests.get(base + "/metrics", timeout=5).status_code == 200
    # Through the local proxy, a remote client is not loopback.
    pbase, _ = proxied
    resp = requests.get(pbase + "/metrics", headers={"X-Forwarded-For": "203.0.113.20"}, timeout=5)
    assert resp.status_code == 404
    assert resp.json() == {"error": "not found"}
    addr = own_address()
    if addr is None:
        pytest.skip("no non-loopback IPv4 address to connect from")
    port = base.rsplit(":", 1)[1]
    resp = requests.get(f"http://{addr}:{port}/metrics", timeout=5)
    assert resp.status_code == 404, resp.text[:200]
    assert resp.json() == {"error": "not found"}
    # BK_METRICS_ALLOW lets a configured address in.
    pport = pbase.rsplit(":", 1)[1]
    assert requests.get(f"http://{addr}:{pport}/metrics", timeout=5).status_code == 200


def test_processor_metrics_listen_on_loopback_only(stack):
    assert requests.get(stack.metrics_url, timeout=5).status_code == 200
    addr = own_address()
    if addr is None:
        pytest.skip("no non-loopback IPv4 address to connect from")
    port = stack.metrics_url.split(":")[2].split("/")[0]
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://{addr}:{port}/metrics", timeout=5)
