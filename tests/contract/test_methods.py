"""What openapi.yaml says about methods and paths that schemathesis does not send: every method a documented
path does not document is 405 with an Allow header naming exactly the documented ones (docs/api.md), a CORS
preflight needs an allowed origin, and an unknown path is a JSON 404."""

import pytest
import requests
import yaml

from conftest import CORS_ORIGIN, REPO

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
JSON_CT = "application/json; charset=utf-8"
# A right-shaped id for the templated path (its signature is wrong, which is never looked at for a 405).
SAMPLE = {"/bookings/{booking_id}": "/bookings/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}
# Known bugs: (path, method) -> why. strict: the test fails once the bug is fixed, to drop the entry.
# Regressions fixed since: (/metrics, POST…) once answered 405 without Allow (allow[] had no entry).
KNOWN = {}


def documented():
    spec = yaml.safe_load((REPO / "openapi.yaml").read_text())
    for path, item in spec["paths"].items():
        methods = {m.upper() for m in item if m.upper() in METHODS}
        if "GET" in methods:
            methods.add("HEAD")  # every GET path answers HEAD (info.description)
        yield path, methods


CASES = []
for _path, _methods in documented():
    _allow = ", ".join(m for m in METHODS if m in _methods and m != "OPTIONS")
    for _method in METHODS:
        if _method in _methods and _method != "OPTIONS":
            continue
        marks = [pytest.mark.xfail(strict=True, reason=KNOWN[(_path, _method)])] if (_path, _method) in KNOWN else []
        CASES.append(pytest.param(_path, _method, _allow, marks=marks, id=f"{_method} {_path}"))


@pytest.mark.parametrize("path,method,allow", CASES)
def test_undocumented_method_is_405_with_allow(stack, path, method, allow):
    # OPTIONS without an allowed Origin is not a preflight: an undocumented method like any other.
    resp = requests.request(method, stack.base_url + SAMPLE.get(path, path), timeout=10, allow_redirects=False)
    assert resp.status_code == 405, f"{method} {path}: {resp.status_code} {resp.text[:200]!r}"
    assert resp.headers.get("Allow") == allow, f"{method} {path}: Allow {resp.headers.get('Allow')!r}, want {allow!r}"
    assert resp.headers.get("Content-Type") == JSON_CT
    if method != "HEAD":
        assert set(resp.json()) == {"error"}


@pytest.mark.parametrize("path", ["/tickets", "/book", "/bookings/{booking_id}"])
def test_preflight_from_an_allowed_origin(stack, path):
    resp = requests.options(stack.base_url + SAMPLE.get(path, path), timeout=10,
                            headers={"Origin": CORS_ORIGIN, "Access-Control-Request-Method": "POST"})
    assert resp.status_code == 204, resp.text[:200]
    assert resp.headers.get("Access-Control-Allow-Origin") == CORS_ORIGIN
    assert resp.headers.get("Access-Control-Allow-Methods") == "GET, HEAD, POST"
    assert resp.headers.get("Access-Control-Allow-Headers") == "Content-Type, Idempotency-Key"
    assert resp.content == b""

    other = requests.options(stack.base_url + SAMPLE.get(path, path), timeout=10,
                             headers={"Origin": "https://evil.example"})
    assert other.status_code == 405 and "Access-Control-Allow-Origin" not in other.headers


@pytest.mark.parametrize("path", ["/nope", "/api/book", "/bookings", "/assets/nope.js"])
def test_unknown_path_is_json_404(stack, path):
    resp = requests.get(stack.base_url + path, timeout=10)
    assert resp.status_code == 404
    assert resp.headers.get("Content-Type") == JSON_CT
    assert set(resp.json()) == {"error"}
