"""GET /health tells the truth about a database that does not answer (docs/running.md "Database timeouts").
A second ingress reaches PostgreSQL through a TCP proxy of this test that can freeze: connections stay up and
new ones are accepted by the kernel, but nothing goes through, as with a PostgreSQL stopped by SIGSTOP or a
network that drops everything. Every wait of the ingress on the database is bounded, so /health says
"degraded" within seconds, the other answers do not hang, and the ingress still shuts down cleanly."""

import socket
import threading
import urllib.parse

import pytest
import requests

from conftest import start_ingress
from helpers import JSON_CT, wait_until

DEGRADED_WITHIN_S = 10.0  # two failed probes, each bounded by its timeout (ingress/health.c)


class FreezableProxy:
    """Forwards 127.0.0.1:<port> to PostgreSQL. While frozen it accepts no connection and moves no byte
    (both stay in the kernel's buffers), and it moves them on when thawed."""

    def __init__(self, target_host, target_port):
        self.target = (target_host, target_port)
        self.running = threading.Event()
        self.running.set()
        self.closing = False
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets = []
        threading.Thread(target=self._accept, daemon=True).start()

    def freeze(self):
        self.running.clear()

    def thaw(self):
        self.running.set()

    def close(self):
        self.closing = True
        self.running.set()
        for sock in [self.listener] + self.sockets:
            try:
                sock.close()
            except OSError:
                pass

    def _accept(self):
        while not self.closing:
            self.running.wait()
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target, timeout=5)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            self.sockets += [client, server]
            for src, dst in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src, dst):
        try:
            while not self.closing:
                self.running.wait()
                data = src.recv(65536)
                if not data:
                    break
                self.running.wait()
                dst.sendall(data)
        except OSError:
            pass
        for sock in (src, dst):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@pytest.fixture
def proxied(cfg, tmp_path):
    """(base url, ingress Service, proxy): a second ingress whose PostgreSQL is behind a FreezableProxy."""
    dsn = urllib.parse.urlparse(cfg["BK_PG_DSN"])
    proxy = FreezableProxy(dsn.hostname, dsn.port)
    proxied_dsn = dsn._replace(netloc=f"{dsn.username}:{dsn.password}@127.0.0.1:{proxy.port}").geturl()
    base, ingress = start_ingress(cfg, tmp_path, 2, "health", BK_PG_DSN=proxied_dsn)
    wait_until(lambda: health(base, ingress)[0] == 200, 30, "the proxied ingress to be healthy",
               detail=ingress.tail)
    yield base, ingress, proxy
    proxy.thaw()
    if ingress.running():
        ingress.proc.kill()
        ingress.proc.wait(timeout=10)
    ingress._finish()
    proxy.close()


def health(base, ingress):
    if not ingress.running():
        raise AssertionError(f"the proxied ingress died: {ingress.describe_exit()}")
    try:
        resp = requests.get(base + "/health", timeout=5)
        return resp.status_code, resp.json()
    except (requests.RequestException, ValueError) as exc:
        return None, repr(exc)


def degraded(answer):
    status, body = answer
    return (status == 503 and isinstance(body, dict) and body.get("status") == "degraded"
            and body.get("database") not in (None, "ok") and body.get("kafka") == "ok")


@pytest.mark.happy
def test_health_reports_a_database_that_does_not_answer(proxied):
    base, ingress, proxy = proxied
    last = {}

    def reported():
        last["h"] = health(base, ingress)
        return degraded(last["h"])

    proxy.freeze()
    try:
        wait_until(reported, DEGRADED_WITHIN_S, "GET /health to report the database degraded",
                   detail=lambda: f"last answer: {last.get('h')}\n{ingress.tail()}")
        assert last["h"][1]["database"] in ("not answering", "unreachable"), last
        # Bookings need only the broker; availability is served from the cache or refused, never awaited.
        book = requests.post(base + "/book", json={"tier": "GA", "quantity": 1}, headers={"Content-Type": JSON_CT},
                             timeout=10)
        assert book.status_code == 202, book.text
        tickets = requests.get(base + "/tickets", timeout=10)
        assert tickets.status_code in (200, 503), tickets.text
    finally:
        proxy.thaw()
    wait_until(lambda: health(base, ingress)[0] == 200, 30, "GET /health to be ok again", detail=ingress.tail)


@pytest.mark.happy
def test_shutdown_while_the_database_does_not_answer(proxied):
    """SIGTERM with the database frozen: every wait on it is bounded, so the ingress still exits, cleanly."""
    base, ingress, proxy = proxied
    proxy.freeze()
    # An HTTP thread and the health monitor now wait on the frozen database (the cache is empty or stale).
    threading.Thread(target=lambda: requests.get(base + "/tickets", timeout=30), daemon=True).start()
    wait_until(lambda: degraded(health(base, ingress)), DEGRADED_WITHIN_S, "GET /health to report it",
               detail=ingress.tail)
    ingress.stop()  # SIGTERM with the database frozen: a clean exit within STOP_TIMEOUT
