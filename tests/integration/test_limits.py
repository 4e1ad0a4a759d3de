"""Abuse limits of the ingress (docs/api.md "Limits"): per-client token bucket (429 + Retry-After),
per-client connection cap, a deadline on receiving a request (a client sending a byte a second is
cut off), and CORS only for configured origins. A second ingress with strict settings runs beside
the suite's own, with no trusted networks so that loopback counts as a client."""

import os
import socket
import time

import pytest
import requests

from conftest import Service
from helpers import wait_until

STRICT = {
    "BK_TRUSTED_NETS": "",
    "BK_RATE_PER_S": "2",
    "BK_RATE_BURST": "3",
    "BK_CONNS_PER_CLIENT": "3",
    "BK_REQUEST_TIMEOUT_S": "2",
    "BK_CORS_ORIGINS": "https://tickets.example",
}


@pytest.fixture(scope="module")
def strict(cfg, tmp_path_factory):
    port = int(cfg["BK_HTTP_PORT"]) + 2
    env = dict(os.environ, BK_HTTP_PORT=str(port), BK_LOG_LEVEL="info", **STRICT)
    log_dir = tmp_path_factory.mktemp("strict-ingress")
    ingress = Service("bk-ingress", os.path.join(cfg["BK_BIN_DIR"], "bk-ingress"), env, log_dir, "limits", [0])
    ingress.start()
    base = f"http://127.0.0.1:{port}"

    def healthy():
        try:
            return requests.get(base + "/health", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    wait_until(healthy, 30, "the strict ingress to be healthy", detail=ingress.tail)
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
