"""Hardening seen from outside: rate limits on the public endpoints (429 problem+json with Retry-After) and
security headers on every response the app can give, errors and unknown paths included."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Route

from api.app import create_app
from infomediary.database import unit_of_work
from infomediary.ratelimits import service as ratelimits
from infomediary.ratelimits.errors import RateLimited
from infomediary.runtime import Runtime
from infomediary.settings import Settings
from tests.conftest import ISSUER
from tests.fixtures.actors import PASSWORD, make_auditor, make_consumer, make_supplier
from tests.fixtures.mail import messages_to
from tests.fixtures.runtimes import reconfigured

PROBLEM = "application/problem+json"
LIMITS = {"rate_limit_login": 3, "rate_limit_registration": 2, "rate_limit_token": 4}


@pytest.fixture
def limited(runtime: Runtime, settings: Settings) -> Iterator[TestClient]:
    """The test database, served by an app with small limits (the suite's own app has them out of reach)."""
    strict = reconfigured(runtime, rate_limit_window_seconds=3600, **LIMITS)
    with TestClient(create_app(runtime=strict), base_url=ISSUER) as client:
        yield client


def _assert_rate_limited(response: object) -> None:
    from httpx import Response

    assert isinstance(response, Response)
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"].endswith("/rate-limited") and body["status"] == 429
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= 3600
    assert body["retry_after"] == retry_after


def test_login_is_limited_per_address_whatever_the_outcome(limited: TestClient) -> None:
    consumer = make_consumer(limited)  # one login used
    for password in ("a wrong but long password", PASSWORD):  # a failure and a success both count
        assert limited.post(
            "/v1/session", json={"email": consumer.email, "password": password}
        ).status_code in {
            200,
            401,
        }
    refused = limited.post("/v1/session", json={"email": consumer.email, "password": PASSWORD})
    _assert_rate_limited(refused)
    assert "access_token" not in refused.text


def test_registration_is_limited_and_a_refused_registration_creates_nothing(
    limited: TestClient, runtime: Runtime
) -> None:
    for n in range(2):
        created = limited.post("/v1/accounts", json={"email": f"r{n}@example.org", "password": PASSWORD})
        assert created.status_code == 202
    refused = limited.post("/v1/accounts", json={"email": "r2@example.org", "password": PASSWORD})
    _assert_rate_limited(refused)
    # The refused account does not exist (nothing was mailed): with the limit out of the way, registering
    # it makes one, whose confirmation link is the first mail to the address.
    assert messages_to(runtime, "r2@example.org") == []
    with TestClient(create_app(runtime=runtime), base_url=ISSUER) as free:
        again = free.post("/v1/accounts", json={"email": "r2@example.org", "password": PASSWORD})
        assert again.status_code == 202, again.text
    [mail] = messages_to(runtime, "r2@example.org")
    assert "Confirm your address" in str(mail["Subject"])


def test_token_endpoint_is_limited_and_wrong_secrets_count(limited: TestClient, runtime: Runtime) -> None:
    supplier = make_supplier(runtime)
    form = {"grant_type": "client_credentials"}
    for _ in range(3):
        wrong = limited.post("/oauth/token", data=form, auth=(supplier.client_id, "guess"))
        assert wrong.status_code == 401
    assert limited.post(
        "/oauth/token", data=form, auth=(supplier.client_id, supplier.client_secret)
    ).is_success
    refused = limited.post("/oauth/token", data=form, auth=(supplier.client_id, supplier.client_secret))
    _assert_rate_limited(refused)
    revoke = limited.post(
        "/oauth/revoke", data={"token": "x"}, auth=(supplier.client_id, supplier.client_secret)
    )
    _assert_rate_limited(revoke)


def test_windows_are_per_address_and_per_bucket_and_reset(runtime: Runtime) -> None:
    secret = runtime.keys.secret("throttle")
    limit = ratelimits.Limit("login", per_window=2, window_seconds=60)
    now = 1_800_000_000.0  # a multiple of 60: a window starts here
    with unit_of_work(runtime.session_factory) as session:
        assert [ratelimits.hit(session, secret, limit, "198.51.100.1", now=now + i) for i in range(2)] == [
            1,
            2,
        ]
    with pytest.raises(RateLimited) as caught, unit_of_work(runtime.session_factory) as session:
        ratelimits.hit(session, secret, limit, "198.51.100.1", now=now + 15)
    assert caught.value.headers["Retry-After"] == "45"
    with unit_of_work(runtime.session_factory) as session:
        assert ratelimits.hit(session, secret, limit, "198.51.100.2", now=now + 15) == 1
        other_bucket = ratelimits.Limit("token", per_window=2, window_seconds=60)
        assert ratelimits.hit(session, secret, other_bucket, "198.51.100.1", now=now + 15) == 1
        assert ratelimits.hit(session, secret, limit, "198.51.100.1", now=now + 60) == 1
    # The address is never stored, only a keyed hash of it.
    assert b"198.51.100.1" not in ratelimits.counter_key(secret, "login", "198.51.100.1")


# -- security headers ----------------------------------------------------------------------------------

REQUIRED = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def _assert_secure(response: object, where: str) -> None:
    from httpx import Response

    assert isinstance(response, Response)
    html = response.headers.get("content-type", "").startswith("text/html")
    for name, value in REQUIRED.items():
        if html and name == "referrer-policy":
            # Pages send the referrer to their own origin only: under no-referrer Chromium posts forms with
            # `Origin: null`, which the pages' CSRF origin check must refuse. Never to another site.
            value = "same-origin" if response.headers.get(name) == "same-origin" else value
        assert response.headers.get(name, "").lower() == value.lower(), f"{where}: {name} missing"
    # Public, non-personal documents (keys, metadata) may be cached; everything else must not be stored.
    cache = response.headers.get("cache-control", "")
    public = response.request.url.path.startswith("/.well-known/") and response.status_code == 200
    assert cache == "no-store" or (public and cache.startswith("public")), f"{where}: cache-control {cache!r}"
    csp = response.headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp, f"{where}: no framing policy"
    if not html:
        assert "default-src 'none'" in csp, f"{where}: an API answer must not load anything"
    assert response.headers.get("x-request-id"), where


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def _every_route(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) in the app's route table, so a new route is covered without editing this test."""
    try:
        from fastapi.routing import iter_route_contexts  # FastAPI >= 0.120 nests included routers
    except ImportError:  # pragma: no cover - older FastAPI keeps a flat route list
        found = [(r.path, r.methods or set()) for r in app.routes if isinstance(r, APIRoute | Route)]
    else:
        found = [(c.path or "", c.methods or set()) for c in iter_route_contexts(app.routes)]
    return sorted({(m, _concrete(path)) for path, methods in found for m in methods})


def test_every_route_carries_the_security_headers_as_anyone_and_as_each_actor(
    http: TestClient, app: FastAPI, runtime: Runtime
) -> None:
    consumer = make_consumer(http)
    callers = {
        "anonymous": {},
        "consumer": consumer.headers,
        "supplier": make_supplier(runtime).headers(http),
        "auditor": make_auditor(runtime).headers(http),
    }
    routes = _every_route(app)
    assert len(routes) > 40, "the route table was not read"
    for caller, headers in callers.items():
        for method, path in routes:
            if method == "DELETE" and path in {"/v1/me", "/v1/session"}:
                continue  # would end the consumer's session midway; tried anonymously below
            response = http.request(method, path, headers=headers)
            assert response.status_code < 500, f"{caller} {method} {path}: {response.status_code}"
            _assert_secure(response, f"{caller} {method} {path} -> {response.status_code}")
    for path in ("/v1/me", "/v1/session"):
        _assert_secure(http.delete(path), f"anonymous DELETE {path}")


def test_errors_unknown_paths_and_refused_bodies_carry_them_too(http: TestClient, app: FastAPI) -> None:
    _assert_secure(http.get("/no/such/path"), "404")
    _assert_secure(http.put("/healthz"), "405")
    _assert_secure(
        http.post("/v1/accounts", content=b"{", headers={"content-type": "application/json"}), "422"
    )
    too_big = http.post(
        "/v1/accounts", content=b"x" * 2_000_000, headers={"content-type": "application/json"}
    )
    assert too_big.status_code == 413
    _assert_secure(too_big, "413")
    docs = http.get("/docs")
    assert docs.status_code == 200
    _assert_secure(docs, "/docs")

    def boom() -> None:
        raise RuntimeError("an unexpected failure")

    app.add_api_route("/__boom", boom)
    with TestClient(app, base_url=ISSUER, raise_server_exceptions=False) as client:
        crashed = client.get("/__boom")
    assert crashed.status_code == 500 and crashed.headers["content-type"] == PROBLEM
    _assert_secure(crashed, "500")


def test_hsts_is_sent_over_https_only(app: FastAPI) -> None:
    with TestClient(app, base_url="https://infomediary.example") as https:
        assert "max-age=" in https.get("/healthz").headers["strict-transport-security"]
    with TestClient(app, base_url=ISSUER) as plain:
        assert "strict-transport-security" not in plain.get("/healthz").headers


def test_a_nul_in_an_id_is_refused_at_the_edge(http: TestClient, runtime: Runtime) -> None:
    """PostgreSQL refuses NUL in text: an id holding one used to reach the query and fail it (a 500 there,
    a quiet 404 on SQLite). Ids are checked against what ids look like before anything is read."""
    consumer = make_consumer(http)
    supplier = make_supplier(runtime).headers(http)
    auditor = make_auditor(runtime).headers(http)
    tries = [
        ("POST", "/v1/me/pseudonyms", consumer.headers, {"json": {"supplier_id": "sup_\x00"}}),
        ("GET", "/v1/me/consents/rec_%00/receipt", consumer.headers, {}),
        ("PUT", "/v1/me/recommendations/personalisation/%00", consumer.headers, {"json": {"enabled": False}}),
        ("GET", "/v1/me/recommendations/explanations", consumer.headers, {"params": {"supplier_id": "\x00"}}),
        ("GET", "/v1/catalog/rules/rul_%00", supplier, {}),
        ("GET", "/v1/supplier/webhooks/%00", supplier, {}),
        ("GET", "/v1/recommendations/%00", supplier, {}),
        ("GET", "/v1/offers/off_%00", supplier, {}),
        ("GET", "/v1/audit/log", auditor, {"params": {"supplier_id": "\x00"}}),
    ]
    for method, path, headers, kwargs in tries:
        response = http.request(method, path, headers=headers, **kwargs)
        assert response.status_code == 422, (path, response.text)
        assert response.headers["content-type"] == "application/problem+json", path


def test_a_nul_in_a_client_id_is_an_unknown_client(http: TestClient) -> None:
    """authlib hands the client id over unvalidated; one holding a NUL used to reach PostgreSQL (500)."""
    for path, data in (
        ("/oauth/token", {"grant_type": "client_credentials"}),
        ("/oauth/revoke", {"token": "x"}),
    ):
        response = http.post(path, data=data, auth=("client\x00", "secret"))
        assert response.status_code == 401, (path, response.text)
        assert response.headers["content-type"] == "application/problem+json", path


def test_a_nul_in_free_text_is_refused_at_the_edge(http: TestClient, runtime: Runtime) -> None:
    """Titles, findings and webhook URLs holding a NUL used to reach PostgreSQL, which refuses them (500)."""
    supplier = make_supplier(runtime)
    headers = supplier.headers(http)
    auditor = make_auditor(runtime).headers(http)
    item = {"id": "sku:1", "title": "boots\x00", "categories": ["outdoor"], "price": 1, "currency": "EUR"}
    tries = [
        (
            "/v1/audit/findings",
            auditor,
            {"supplier_id": supplier.owner_id, "severity": "low", "text": "a\x00"},
        ),
        (
            "/v1/audit/sanctions",
            auditor,
            {"supplier_id": supplier.owner_id, "kind": "warning", "reason": "\x00"},
        ),
        ("/v1/catalog", headers, {"items": [item]}),
        (
            "/v1/supplier/webhooks",
            headers,
            {"url": "https://93.184.216.34/\x00", "event_types": ["offer.accepted"]},
        ),
    ]
    for path, caller, body in tries:
        method = "PUT" if path == "/v1/catalog" else "POST"
        response = http.request(method, path, json=body, headers=caller)
        assert response.status_code == 422, (path, response.text)
        assert response.headers["content-type"] == "application/problem+json", path
