"""GET /health, GET /tickets and the SPA at / (docs/api.md): shapes, order, money in cents."""

import os
from pathlib import Path

import pytest
import requests

from helpers import TIERS, json_body, wait_until


@pytest.mark.happy
def test_health_reports_every_component_ok(api):
    body = json_body(api.health(), 200)
    assert body == {"status": "ok", "kafka": "ok", "database": "ok"}


@pytest.mark.happy
def test_tickets_lists_the_tiers_in_order_with_prices_in_cents(api, reset_tier):
    for tier, _, _, seats, _ in TIERS:
        reset_tier(tier, seats)

    # /tickets may be cached for up to 1 s: poll until it shows the reset state.
    want = [{"tier": tier, "name": name, "price_cents": price, "currency": "USD", "capacity": seats,
             "available": seats} for tier, name, price, seats, _ in TIERS]
    last = {}

    def shows_reset_state():
        last["body"] = json_body(api.tickets(), 200)
        return last["body"] == want

    wait_until(shows_reset_state, 5, "GET /tickets to show the seeded tiers",
               detail=lambda: f"last body: {last.get('body')!r}\nwant: {want!r}")
    for entry in last["body"]:
        assert all(type(entry[k]) is int for k in ("price_cents", "capacity", "available")), entry


@pytest.mark.happy
def test_root_serves_the_spa_as_html(api):
    # The app ./bk build made, served from the first start on: a missing index.html is a failure.
    static_dir = Path(os.environ.get("BK_STATIC_DIR", ""))
    assert (static_dir / "index.html").is_file(), f"BK_STATIC_DIR={static_dir} holds no built app"
    resp = api.request("GET", "/")
    assert resp.status_code == 200, resp.text[:200]
    assert resp.headers.get("Content-Type", "").lower().startswith("text/html"), resp.headers
    assert '<div id="root">' in resp.text, resp.text[:300]


def _samples(text):
    """Prometheus text → {'name{labels}': value} for the sample lines."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            out[key] = float(value)
    return out


@pytest.mark.happy
def test_metrics_of_both_services_count_what_happened(stack, api, reset_tier):
    reset_tier("GA")
    ingress_before = _samples(api.request("GET", "/metrics").text)
    booking = api.book("GA", 1, wait=5000)
    assert booking.status_code == 200, booking.text

    resp = api.request("GET", "/metrics")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    after = _samples(resp.text)
    key = 'bk_http_requests_total{route="book",status="200"}'
    assert after[key] == ingress_before.get(key, 0) + 1
    assert after['bk_kafka_deliveries_total{result="acked"}'] >= 1
    assert 'bk_http_request_duration_seconds_bucket{route="book",le="+Inf"}' in after
    assert "bk_kafka_producer_queue" in after

    # The processor counts a batch just after its commit, which is when the ingress already sees
    # the outcome: poll rather than race it.
    def processor_metrics():
        return _samples(requests.get(stack.metrics_url, timeout=5).text)

    wait_until(lambda: processor_metrics().get('bk_outcomes_total{kind="confirmed"}', 0) >= 1, 10,
               "the processor to count the confirmed booking")
    processor = processor_metrics()
    assert processor["bk_batch_transaction_seconds_count"] >= 1
    assert processor['bk_consumer_lag{partition="2"}'] >= 0
