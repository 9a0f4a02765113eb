"""Every route that writes, sent many times at once: no answer is a 500, and the stored state stays whole.

The routes come from the app's own route table: a route writes when its endpoint takes the writing session
(`WriteSessionDep`), whatever its HTTP method (`api.routing.UnitOfWorkRoute.writes`), so a new writing route
(a GET that records a decision, a POST, a page's form) is in this test from the moment it exists. The
requests are the authorization matrix's (`tests/api/test_authorization_matrix.py`) and the page matrix's
(`tests/pages/test_page_matrix.py`), sent as the caller that succeeds, `CONCURRENCY` at once.

After each burst: every answer is below 500, except a 503 that says when to retry (a writer that did not
get SQLite's lock in time; it changed nothing), and the state is consistent (`tests.fixtures.invariants`):
the policy log whole, the books balanced, no budget overspent. Issue 15 found GET routes that appended to
the log through autocommit read sessions: concurrent appenders then read nodes not yet written, the log was
left with gaps, and every later logged request answered 500.
"""

from __future__ import annotations

import functools
import secrets
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields
from pathlib import Path

import httpx
import pyotp
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.app import create_app
from api.pages.routing import PageRoute
from api.routing import UnitOfWorkRoute
from infomediary.policylog import kinds
from infomediary.policylog.models import PolicyLogEntry
from infomediary.relay import links as relay_links
from infomediary.runtime import Runtime
from tests.api import test_authorization_matrix as api_matrix
from tests.conftest import make_settings
from tests.fixtures.actors import PASSWORD
from tests.fixtures.invariants import assert_state_consistent
from tests.fixtures.mail import last_token
from tests.fixtures.runtimes import reconfigured
from tests.fixtures.world import World, make_world
from tests.pages import test_page_matrix as page_matrix

# Real commits on the real engines: this module's tests race connections or read what a commit leaves.
pytestmark = pytest.mark.committing

CONCURRENCY = 6


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    # The world has one customer per side: its offers go out without the minimum audience at sending.
    return create_app(runtime=reconfigured(runtime, audience_min_cohort=0))


def writing_routes(app: FastAPI) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(API routes, page routes) that take the writing session, as (method, path)."""
    api: set[tuple[str, str]] = set()
    pages: set[tuple[str, str]] = set()
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, UnitOfWorkRoute) or not route.writes:
            continue
        found = pages if isinstance(route, PageRoute) else api
        found |= {(method, context.path or "") for method in route.methods or set() if method != "HEAD"}
    return api, pages


API_CALLERS = ("consumer", "supplier", "auditor", "anonymous")
PAGE_VISITORS = ("consumer", "supplier", "auditor", "anonymous")


def _succeeding(expect: object, candidates: tuple[str, ...]) -> str:
    """The caller whose expected answer is a success (2xx, or a page's redirect after a form)."""
    for name in candidates:
        status = getattr(expect, name)
        if isinstance(status, int) and 200 <= status < 400:
            return name
    raise AssertionError(f"no caller succeeds on this route: {expect}")


def _route_table() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The writing routes of an app built only to read its route table (nothing connects or is written)."""
    with tempfile.TemporaryDirectory() as data_dir:
        runtime = Runtime.create(make_settings(Path(data_dir), f"sqlite:///{data_dir}/unused.db"))
        try:
            api, pages = writing_routes(create_app(runtime=runtime))
        finally:
            runtime.close()
    return sorted(api), sorted(pages)


API_WRITERS, PAGE_WRITERS = _route_table()


def test_every_writing_route_is_in_a_matrix() -> None:
    """The bursts below send the matrices' rows; a writing route without one could not be sent."""
    assert ("GET", "/v1/recommendations/{pseudonym}") in API_WRITERS
    assert ("GET", "/v1/offers/{offer_id}") in API_WRITERS
    assert ("GET", "/inbox") in PAGE_WRITERS
    missing = set(API_WRITERS) - set(api_matrix.EXPECTATIONS) | set(PAGE_WRITERS) - set(page_matrix.PAGES)
    assert not missing, f"add these writing routes to the authorization or page matrix: {sorted(missing)}"


def _check(responses: list[httpx.Response], method: str, path: str) -> None:
    statuses = [r.status_code for r in responses]
    for response in responses:
        if response.status_code == 503:
            assert "retry-after" in response.headers, f"{method} {path}: a 503 without Retry-After"
            continue
        assert response.status_code < 500, f"{method} {path}: answers {statuses}: {response.text[:300]}"
    assert any(s < 400 for s in statuses), f"{method} {path}: no request succeeded: {statuses}"


def _burst(send: Callable[[], httpx.Response]) -> list[httpx.Response]:
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        return list(pool.map(lambda _: send(), range(CONCURRENCY)))


def _token_request(http: TestClient, world: World) -> Callable[[], httpx.Response]:
    client = world.own.supplier
    data = {"grant_type": "client_credentials"}
    return lambda: http.post("/oauth/token", data=data, auth=(client.client_id, client.client_secret))


def _revocation(http: TestClient, world: World) -> Callable[[], httpx.Response]:
    client = world.own.supplier
    data = {"token": client.token(http)}
    return lambda: http.post("/oauth/revoke", data=data, auth=(client.client_id, client.client_secret))


def _runtime_of(http: TestClient) -> Runtime:
    runtime: Runtime = http.app.state.runtime  # type: ignore[attr-defined]
    return runtime


def _confirmation_link(http: TestClient, world: World) -> dict[str, str]:
    email = f"racer-{secrets.token_hex(3)}@example.org"
    assert http.post("/v1/accounts", json={"email": email, "password": PASSWORD}).status_code == 202
    return {"token": last_token(_runtime_of(http), email, "/verify-email")}


def _reset_link(http: TestClient, world: World) -> dict[str, str]:
    email = world.own.consumer.email
    assert http.post("/v1/accounts/password-reset", json={"email": email}).status_code == 202
    return {"token": last_token(_runtime_of(http), email, "/reset-password")}


def _email_change_link(http: TestClient, world: World) -> dict[str, str]:
    email = f"mover-{secrets.token_hex(3)}@example.org"
    asked = http.patch("/v1/me/profile", json={"email": email}, headers=world.own.consumer.headers)
    assert asked.status_code == 200, asked.text
    return {"token": last_token(_runtime_of(http), email, "/change-email"), "password": PASSWORD}


def _pending_authenticator(http: TestClient, world: World) -> pyotp.TOTP:
    started = http.post(
        "/v1/me/second-factor", json={"password": PASSWORD}, headers=world.own.consumer.headers
    )
    assert started.status_code == 201, started.text
    return pyotp.TOTP(started.json()["secret"])


def _sign_in_challenge(http: TestClient, world: World) -> dict[str, str]:
    """Two-step sign-in on for the world's consumer, and a challenge with a code of the current step."""
    totp = _pending_authenticator(http, world)
    now = time.time()
    first = {"code": totp.at(now - 30)}  # the step before: the current one stays unused for the burst
    assert http.post(
        "/v1/me/second-factor/confirm", json=first, headers=world.own.consumer.headers
    ).is_success
    login = http.post("/v1/session", json={"email": world.own.consumer.email, "password": PASSWORD})
    assert login.status_code == 202, login.text
    http.cookies.clear()
    return {"challenge": login.json()["challenge"], "code": totp.at(now)}


def _single_use(
    make: Callable[[TestClient, World], dict[str, str]], path: str
) -> Callable[[TestClient, World], Callable[[], httpx.Response]]:
    def build(http: TestClient, world: World) -> Callable[[], httpx.Response]:
        body = make(http, world)
        if path == "/v1/accounts/password-reset/complete":
            body["new_password"] = "a raced new passphrase"
        return lambda: http.post(path, json=body)

    return build


def _first_code(http: TestClient, world: World) -> Callable[[], httpx.Response]:
    body = {"code": _pending_authenticator(http, world).now()}
    return lambda: http.post("/v1/me/second-factor/confirm", json=body, headers=world.own.consumer.headers)


# The matrix sends these without valid client credentials, or with a token or code nobody was given (it checks
# they are refused); the burst needs the request that succeeds.
API_REQUESTS: dict[tuple[str, str], Callable[[TestClient, World], Callable[[], httpx.Response]]] = {
    ("POST", "/oauth/token"): _token_request,
    ("POST", "/oauth/revoke"): _revocation,
    ("POST", "/v1/accounts/verify"): _single_use(_confirmation_link, "/v1/accounts/verify"),
    ("POST", "/v1/accounts/email-change/confirm"): _single_use(
        _email_change_link, "/v1/accounts/email-change/confirm"
    ),
    ("POST", "/v1/accounts/password-reset/complete"): _single_use(
        _reset_link, "/v1/accounts/password-reset/complete"
    ),
    ("POST", "/v1/session/second-factor"): _single_use(_sign_in_challenge, "/v1/session/second-factor"),
    ("POST", "/v1/me/second-factor/confirm"): _first_code,
}
# What is good once: of a burst sending the same token, challenge or first code, exactly one succeeds.
SINGLE_USE = {
    ("POST", "/v1/accounts/verify"),
    ("POST", "/v1/accounts/password-reset/complete"),
    ("POST", "/v1/accounts/email-change/confirm"),
    ("POST", "/change-email"),
    ("POST", "/v1/session/second-factor"),
    ("POST", "/v1/me/second-factor/confirm"),
    # The same voucher, each request with an Idempotency-Key of its own: its value moves once.
    ("POST", "/v1/vouchers/redeem"),
    ("POST", "/verify-email"),
    ("POST", "/reset-password"),
    ("POST", "/login/code"),
}
# The same for the pages: the form to send, with the real token in it.
PAGE_FORMS: dict[tuple[str, str], Callable[[TestClient, World], dict[str, str]]] = {
    ("POST", "/verify-email"): _confirmation_link,
    ("POST", "/change-email"): _email_change_link,
    ("POST", "/reset-password"): lambda http, world: {**_reset_link(http, world), "password": "a raced pass"},
    ("POST", "/login/code"): _sign_in_challenge,
}

# Path values the matrix fills with a token nobody was given; the burst needs the real one.
PAGE_PATH_VALUES: dict[tuple[str, str], Callable[[Runtime, World], dict[str, str]]] = {
    # A report link of a message relayed to her: reported by a burst, it counts once (`relay.links`).
    ("POST", "/relay/report/{token}"): lambda runtime, world: {
        "token": relay_links.report_token(runtime.keys, world.own.ids["message_id"])
    },
}


def _check_single_use(responses: list[httpx.Response], method: str, path: str) -> None:
    if (method, path) in SINGLE_USE:
        statuses = [r.status_code for r in responses]
        assert sum(s < 400 for s in statuses) == 1, f"{method} {path}: used more than once: {statuses}"


@pytest.mark.parametrize(("method", "path"), API_WRITERS, ids=lambda v: str(v))
def test_concurrent_api_writes_keep_every_invariant(
    http: TestClient, runtime: Runtime, method: str, path: str
) -> None:
    world = make_world(http, runtime)
    if (method, path) in API_REQUESTS:
        send = API_REQUESTS[(method, path)](http, world)
    else:
        caller = _succeeding(api_matrix.EXPECTATIONS[(method, path)][0], API_CALLERS)
        send = functools.partial(api_matrix.send, http, world, method, path, caller)
    draws_before = _budgeted_releases(runtime, world.own.supplier.owner_id)
    responses = _burst(send)
    _check(responses, method, path)
    _check_single_use(responses, method, path)
    assert_state_consistent(runtime)
    if (method, path) == ("GET", "/v1/offers/{offer_id}"):
        # Draws follow a schedule (`offers.stats`): at most one fresh draw in the burst, however many
        # readers raced; the others were served that draw.
        drawn = _budgeted_releases(runtime, world.own.supplier.owner_id) - draws_before
        assert drawn <= 1, f"the offer's noise was drawn {drawn} times in one interval"


def _budgeted_releases(runtime: Runtime, supplier_id: str) -> int:
    """Releases logged for the supplier that spent epsilon: each is one noisy draw."""
    with runtime.read_session_factory() as session:
        found = session.scalar(
            select(func.count()).where(
                PolicyLogEntry.kind == kinds.RELEASE,
                PolicyLogEntry.supplier_id == supplier_id,
                PolicyLogEntry.epsilon_milli > 0,
            )
        )
    return int(found or 0)


def _cookie_header(cookies: httpx.Cookies, path: str) -> str:
    return "; ".join(
        f"{cookie.name}={cookie.value}" for cookie in cookies.jar if path.startswith(cookie.path or "/")
    )


@pytest.mark.parametrize(("method", "path"), PAGE_WRITERS, ids=lambda v: str(v))
def test_concurrent_page_writes_keep_every_invariant(
    http: TestClient, runtime: Runtime, method: str, path: str
) -> None:
    expect, form = page_matrix.PAGES[(method, path)]
    opened_by_link = (method, path) in PAGE_FORMS or (method, path) in PAGE_PATH_VALUES
    visitor = "anonymous" if opened_by_link else _succeeding(expect, PAGE_VISITORS)
    visitors = page_matrix.make_visitors(http, runtime)
    values = page_matrix._values(visitors, visitor)
    if (method, path) in PAGE_PATH_VALUES:
        values |= PAGE_PATH_VALUES[(method, path)](runtime, visitors.world)
    data = {k: v.format(**values) for k, v in (form.data or {}).items()}
    if (method, path) in PAGE_FORMS:
        data = PAGE_FORMS[(method, path)](http, visitors.world)
    url = path.format(**values)
    page_matrix._as(http, visitors, visitor)
    if method != "GET":
        data["csrf_token"] = page_matrix._token(http, path)
    # Each request carries the visitor's cookies itself; the client's shared jar stays out of the race.
    headers = {"Cookie": _cookie_header(httpx.Cookies(http.cookies), url)}
    http.cookies.clear()

    def send() -> httpx.Response:
        if method == "GET":
            return http.get(url, params=data, headers=headers, follow_redirects=False)
        return http.request(method, url, data=data, headers=headers, follow_redirects=False)

    responses = _burst(send)
    _check(responses, method, path)
    _check_single_use(responses, method, path)
    assert_state_consistent(runtime)


def test_the_callers_are_the_matrix_columns() -> None:
    assert set(API_CALLERS) <= {f.name for f in fields(api_matrix.Expect)}
    assert set(PAGE_VISITORS) <= {f.name for f in fields(page_matrix.Expect)}
