"""The page matrix: every HTML page route, for every kind of visitor, → the status it must answer.

The API's authorization matrix (`tests/api/test_authorization_matrix.py`) covers every route but these: page
visitors hold cookies, not bearer tokens, and send forms with a CSRF token. The routes come from the app's
own page route table (`api.pages.routing.page_routes`), so a new page cannot escape: a page route with no row
in `PAGES` fails `test_every_page_route_has_expectations`, and a row for a route that is gone fails too.

Visitors (the columns of `Expect`), each signed in through its own cookie as a browser would be:

- `anonymous`: no cookie at all.
- `consumer`: a consumer's session cookie, with that consumer's own objects in the path.
- `other_consumer`: the same cookie, with another consumer's consent record, inbox request or offer.
- `supplier`: a supplier console operator's cookie (scoped to `/supplier`), with its own offer and client.
- `other_supplier`: the same cookie, with another supplier's offer or API client.
- `auditor`: an auditor view operator's cookie (scoped to `/audit`).

`LOGIN` means a 303 to the log-in page of the route's area (`/login`, `/supplier/login`, `/audit/login`):
what a visitor without the right session gets. Every POST is sent twice per visitor: without a CSRF token
(always 403, whoever asks), then with the token of the page the visitor was last shown in that area.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, fields

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.pages import routing
from api.pages.errors import login_page
from api.session_cookie import SESSION_COOKIE
from infomediary.operators.models import OperatorKind
from infomediary.runtime import Runtime
from tests.fixtures.actors import PASSWORD
from tests.fixtures.operators import OPERATOR_PASSWORD, make_operator, operator_login
from tests.fixtures.world import World, make_world, per_test_world
from tests.pages.conftest import csrf_token

LOGIN = "login"
Status = int | str


@dataclass(frozen=True)
class Expect:
    """What each visitor must get: a status, or `LOGIN`. `None`: not applicable to this route."""

    anonymous: Status
    consumer: Status
    other_consumer: Status | None
    supplier: Status
    other_supplier: Status | None
    auditor: Status


@dataclass(frozen=True)
class Form:
    """The form fields (or query parameters for a GET) to send. Strings may hold placeholders:
    `{record_id}`, `{request_id}`, `{offer_id}`, `{supplier_id}`, `{client_id}` (the visitor's side of the
    world, or the other side's for `other_consumer`/`other_supplier`), `{email}` (the consumer's login),
    `{fresh_email}`, `{supplier_login}` and `{auditor_login}` (the operators' logins)."""

    data: dict[str, str] | None = None


def consumer_page(ok: Status, *, others: Status | None = None) -> Expect:
    """A page of the consumer's privacy centre: operators' cookies are not sent there (path-scoped)."""
    return Expect(LOGIN, ok, others, LOGIN, None, LOGIN)


def supplier_page(ok: Status, *, others: Status | None = None) -> Expect:
    """A page of the supplier console: a consumer's session or an auditor's is not a supplier operator's."""
    return Expect(LOGIN, LOGIN, None, ok, others, LOGIN)


def auditor_page(ok: Status) -> Expect:
    """A page of the auditor view."""
    return Expect(LOGIN, LOGIN, None, LOGIN, None, ok)


def open_page(ok: Status, *, signed_in: Status | None = None, who: str = "") -> Expect:
    """Anyone; `who` (a column) gets `signed_in` instead, e.g. a log-in form sends its own user on."""
    values = {f.name: ok for f in fields(Expect) if not f.name.startswith("other_")}
    if who:
        values[who] = signed_in if signed_in is not None else ok
    return Expect(**values, other_consumer=None, other_supplier=None)


CONSUMER_LOGIN = {"email": "{email}", "password": PASSWORD}
PAGES: dict[tuple[str, str], tuple[Expect, Form]] = {
    # Accounts: the forms are open; a signed-in consumer is sent on from them.
    ("GET", "/"): (open_page(200), Form()),
    ("GET", "/signup"): (open_page(200, signed_in=303, who="consumer"), Form()),
    ("POST", "/signup"): (open_page(303), Form({"email": "{fresh_email}", "password": PASSWORD})),
    ("GET", "/login"): (open_page(200, signed_in=303, who="consumer"), Form()),
    ("POST", "/login"): (open_page(303), Form(CONSUMER_LOGIN)),
    ("POST", "/logout"): (consumer_page(303), Form()),
    ("GET", "/signup/sent"): (open_page(200), Form()),
    # A forged challenge: the log-in form again, whoever sends it.
    ("POST", "/login/code"): (open_page(401), Form({"challenge": "c" * 43, "code": "123456"})),
    # Where the mailed links lead: a token nobody was sent is a link that does not work, for anyone.
    ("GET", "/verify-email"): (open_page(400), Form({"token": "t" * 43})),
    ("POST", "/verify-email"): (open_page(400), Form({"token": "t" * 43})),
    ("GET", "/verify-email/resend"): (open_page(200), Form()),
    ("POST", "/verify-email/resend"): (open_page(303), Form({"email": "{email}"})),
    ("GET", "/forgot-password"): (open_page(200), Form()),
    ("POST", "/forgot-password"): (open_page(303), Form({"email": "{email}"})),
    ("GET", "/reset-password"): (open_page(400), Form({"token": "t" * 43})),
    ("POST", "/reset-password"): (open_page(400), Form({"token": "t" * 43, "password": PASSWORD})),
    ("GET", "/change-email"): (open_page(400), Form({"token": "t" * 43})),
    ("POST", "/change-email"): (open_page(400), Form({"token": "t" * 43})),
    # The consumer's privacy centre.
    ("GET", "/profile"): (consumer_page(200), Form()),
    ("GET", "/profile/{category}"): (consumer_page(200), Form()),
    ("POST", "/profile/{category}"): (consumer_page(303), Form({"given_name": "Ada"})),
    ("GET", "/privacy"): (open_page(200), Form()),
    ("GET", "/time-zone"): (open_page(200), Form()),
    ("POST", "/time-zone"): (open_page(303), Form({"zone": "Europe/Paris", "back": "/"})),
    ("GET", "/consents"): (consumer_page(200), Form()),
    ("POST", "/consents"): (
        consumer_page(303),
        Form(
            {
                "supplier_id": "{supplier_id}",
                "purpose": "marketing",
                "category": "contact",
                "decision": "refuse",
            }
        ),
    ),
    ("POST", "/consents/withdraw-all"): (consumer_page(303), Form()),
    ("GET", "/consents/effective"): (consumer_page(200), Form()),
    ("POST", "/consents/effective"): (
        consumer_page(303),
        Form(
            {"supplier_id": "{supplier_id}", "purpose": "marketing", "category": "interests", "to": "refuse"}
        ),
    ),
    ("POST", "/consents/effective/withdraw-all"): (consumer_page(303), Form()),
    ("POST", "/consents/{record_id}/withdraw"): (consumer_page(303, others=404), Form()),
    ("GET", "/consents/{record_id}/receipt"): (consumer_page(200, others=404), Form()),
    ("GET", "/consents/{record_id}/receipt.jws"): (consumer_page(200, others=404), Form()),
    ("GET", "/terms"): (consumer_page(200), Form()),
    ("POST", "/terms"): (consumer_page(303), Form({"never_category": "health"})),
    ("GET", "/inbox"): (consumer_page(200), Form()),
    ("POST", "/inbox/requests/{request_id}/accept"): (
        consumer_page(303, others=404),
        Form({"confirm": "yes"}),
    ),
    ("POST", "/inbox/requests/{request_id}/refuse"): (consumer_page(303, others=404), Form()),
    ("POST", "/inbox/offers/{offer_id}/view"): (consumer_page(303, others=404), Form()),
    ("POST", "/inbox/offers/{offer_id}/accept"): (
        consumer_page(303, others=404),
        Form({"confirm": "yes", "password": PASSWORD}),
    ),
    ("POST", "/inbox/offers/{offer_id}/dismiss"): (consumer_page(303, others=404), Form()),
    ("POST", "/inbox/offers/{offer_id}/report"): (consumer_page(303, others=404), Form()),
    ("GET", "/log"): (consumer_page(200), Form()),
    ("GET", "/relay"): (consumer_page(200), Form()),
    ("POST", "/relay/{alias_id}/switch"): (consumer_page(303, others=404), Form({"to": "off"})),
    ("GET", "/relay/messages/{message_id}"): (consumer_page(200, others=404), Form()),
    ("POST", "/relay/settings"): (consumer_page(303), Form({"remote_images": "proxy"})),
    # Links in relayed mail, open to anyone: a token the relay did not make is a link that does not work.
    ("GET", "/relay/report/{token}"): (open_page(404), Form()),
    ("POST", "/relay/report/{token}"): (open_page(404), Form()),
    ("GET", "/privacy-loss"): (consumer_page(200), Form()),
    ("POST", "/privacy-loss"): (consumer_page(303), Form({"action": "set", "cap": "1"})),
    ("GET", "/vouchers"): (consumer_page(200), Form()),
    # The world's consumer has credits left; one key, so a burst of this form issues one voucher.
    ("POST", "/vouchers"): (
        consumer_page(200),
        Form({"supplier_id": "{supplier_id}", "value": "1", "days": "30", "key": "page-matrix"}),
    ),
    ("GET", "/rights"): (consumer_page(200), Form()),
    ("GET", "/rights/export"): (consumer_page(200), Form()),
    ("POST", "/rights/restriction"): (consumer_page(303), Form({"action": "restrict"})),
    ("GET", "/rights/delete"): (consumer_page(200), Form()),
    # Erasure answers with the receipt page itself (the account is gone, there is nowhere to redirect to).
    ("POST", "/rights/delete"): (consumer_page(200), Form({"confirm": "yes", "password": PASSWORD})),
    # Two-step sign-in: the secret is shown on the page that answers the form, never behind a redirect.
    ("GET", "/security"): (consumer_page(200), Form()),
    ("POST", "/security/second-factor"): (consumer_page(200), Form({"password": PASSWORD})),
    ("POST", "/security/second-factor/confirm"): (consumer_page(303), Form({"code": "123456"})),
    ("POST", "/security/second-factor/disable"): (consumer_page(303), Form({"password": PASSWORD})),
    # The supplier console.
    ("GET", "/supplier/login"): (open_page(200, signed_in=303, who="supplier"), Form()),
    ("POST", "/supplier/login"): (
        open_page(303),
        Form({"email": "{supplier_login}", "password": OPERATOR_PASSWORD}),
    ),
    ("POST", "/supplier/logout"): (supplier_page(303), Form()),
    ("GET", "/supplier"): (supplier_page(200), Form()),
    ("GET", "/supplier/ledger"): (supplier_page(200), Form()),
    ("GET", "/supplier/policy"): (supplier_page(200), Form()),
    ("GET", "/supplier/offers"): (supplier_page(200), Form()),
    ("GET", "/supplier/offers/{offer_id}"): (supplier_page(200, others=404), Form()),
    ("GET", "/supplier/credentials"): (supplier_page(200), Form()),
    # The new secret is shown once, on the page that answers the form.
    ("POST", "/supplier/credentials/rotate"): (
        supplier_page(200, others=404),
        Form({"client_id": "{client_id}"}),
    ),
    # The auditor view.
    ("GET", "/audit/login"): (open_page(200, signed_in=303, who="auditor"), Form()),
    ("POST", "/audit/login"): (
        open_page(303),
        Form({"email": "{auditor_login}", "password": OPERATOR_PASSWORD}),
    ),
    ("POST", "/audit/logout"): (auditor_page(303), Form()),
    ("GET", "/audit"): (auditor_page(200), Form()),
    ("GET", "/audit/tree-heads"): (auditor_page(200), Form()),
    ("GET", "/audit/verify"): (auditor_page(200), Form({"leaf_index": "0"})),
    ("GET", "/audit/reports"): (auditor_page(200), Form()),
    ("GET", "/audit/reports/processing.csv"): (auditor_page(200), Form()),
    ("GET", "/audit/sanctions"): (auditor_page(200), Form()),
    ("POST", "/audit/sanctions"): (
        auditor_page(303),
        Form({"supplier_id": "{supplier_id}", "kind": "warning", "reason": "late deletion"}),
    ),
}

VISITORS = [f.name for f in fields(Expect)]
FOREIGN = {"other_consumer", "other_supplier"}


def page_table(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) of the app's pages, HEAD aside (Starlette adds it to every GET)."""
    return sorted({(m, r.path) for r in routing.page_routes(app) for m in r.methods or set() if m != "HEAD"})


def _row_text(method: str, path: str) -> str:
    """The row to add, guessed from the area the path is in. Check the guess before pasting it."""
    area = {"/supplier/login": "supplier_page", "/audit/login": "auditor_page"}.get(
        login_page(path), "consumer_page"
    )
    ok = 200 if method == "GET" else 303
    others = ", others=404" if "{" in path else ""
    return f'    ("{method}", "{path}"): ({area}({ok}{others}), Form()),'


def test_every_page_route_has_expectations(app: FastAPI) -> None:
    routes = page_table(app)
    assert ("GET", "/") in routes and ("POST", "/supplier/login") in routes
    missing = [route for route in routes if route not in PAGES]
    assert not missing, (
        f"{len(missing)} page route(s) have no row in the page matrix. Add to PAGES in "
        "tests/pages/test_page_matrix.py, with what each visitor must get (and a Form with valid fields if "
        "the route takes any):\n" + "\n".join(_row_text(m, p) for m, p in missing)
    )
    stale = [route for route in PAGES if route not in routes]
    assert not stale, f"PAGES names page routes the app no longer has; remove them: {stale}"


# --------------------------------------------------------------------------------------------------------
# The machinery: visitors' cookies, placeholders, CSRF tokens.
# --------------------------------------------------------------------------------------------------------


@dataclass
class Visitors:
    world: World
    cookies: dict[str, httpx.Cookies]
    logins: dict[str, str]


def _signed_in(http: TestClient, prefix: str, login: str) -> httpx.Cookies:
    http.cookies.clear()
    assert operator_login(http, prefix, login).status_code == 303
    return httpx.Cookies(http.cookies)


def make_visitors(http: TestClient, runtime: Runtime) -> Visitors:
    world = make_world(http, runtime)
    supplier_login = make_operator(runtime, OperatorKind.SUPPLIER, world.own.supplier.owner_id)
    auditor_login = make_operator(runtime, OperatorKind.AUDITOR, world.auditor_client.owner_id)
    http.cookies.clear()
    # Logging in through the API sets the very cookie the pages read.
    credentials = {"email": world.own.consumer.email, "password": PASSWORD}
    assert http.post("/v1/session", json=credentials).status_code == 200
    assert http.cookies.get(SESSION_COOKIE)
    consumer = httpx.Cookies(http.cookies)
    supplier = _signed_in(http, "/supplier", supplier_login)
    auditor = _signed_in(http, "/audit", auditor_login)
    cookies = {
        "anonymous": httpx.Cookies(),
        "consumer": consumer,
        "other_consumer": consumer,
        "supplier": supplier,
        "other_supplier": supplier,
        "auditor": auditor,
    }
    return Visitors(world, cookies, {"supplier_login": supplier_login, "auditor_login": auditor_login})


def _values(visitors: Visitors, visitor: str) -> dict[str, str]:
    world = visitors.world
    side = world.other if visitor in FOREIGN else world.own
    return {
        **side.ids,
        "client_id": side.supplier.client_id,
        "email": world.own.consumer.email,
        "fresh_email": f"new-{secrets.token_hex(4)}@example.org",
        "category": "identity",
        "token": "t" * 43,
        **visitors.logins,
    }


def _as(http: TestClient, visitors: Visitors, visitor: str) -> None:
    """Give the browser exactly this visitor's cookies (their paths kept: operator cookies stay scoped)."""
    http.cookies.clear()
    for cookie in visitors.cookies[visitor].jar:
        http.cookies.jar.set_cookie(cookie)


def _token(http: TestClient, path: str) -> str:
    """The CSRF token of the form a browser would have been shown in this area: its log-in page, which sends
    a visitor already signed in there on to a page of the area (every page carries the log-out form)."""
    return csrf_token(http.get(login_page(path)))


def send(
    http: TestClient,
    visitors: Visitors,
    method: str,
    path: str,
    visitor: str,
    values: dict[str, str] | None = None,
    *,
    with_token: bool = True,
) -> httpx.Response:
    _, form = PAGES[(method, path)]
    values = values if values is not None else _values(visitors, visitor)
    fields_ = {k: v.format(**values) for k, v in (form.data or {}).items()}
    _as(http, visitors, visitor)
    url = path.format(**values)
    if method == "GET":
        return http.get(url, params=fields_, follow_redirects=False)
    if with_token:
        fields_["csrf_token"] = _token(http, path)
    return http.request(method, url, data=fields_, follow_redirects=False)


def _seen(response: httpx.Response, path: str) -> Status:
    """The status, or `LOGIN` for a redirect to the area's log-in page that brings the visitor back."""
    if response.status_code == 303 and response.headers["location"].startswith(login_page(path) + "?next="):
        return LOGIN
    return response.status_code


def _order(expect: Expect) -> Iterator[str]:
    """Refusals first, successes last: a success may change what the others see (a log-out, an erasure)."""
    applicable = [v for v in VISITORS if getattr(expect, v) is not None]
    yield from sorted(applicable, key=lambda v: getattr(expect, v) not in (LOGIN, 403, 404))


# Built once per module; each test rolls back to it. Erasing routes get their own (see `per_test_world`).
module_world, built = per_test_world(make_visitors, erasing={("POST", "/rights/delete")})


@pytest.mark.parametrize(("method", "path"), sorted(PAGES), ids=lambda v: str(v))
def test_each_visitor_gets_the_expected_page(
    built: tuple[TestClient, Runtime, Visitors], method: str, path: str
) -> None:
    expect, _ = PAGES[(method, path)]
    http, _, visitors = built
    got: dict[str, Status] = {}
    for visitor in _order(expect):
        if method == "POST":
            forged = send(http, visitors, method, path, visitor, with_token=False)
            assert forged.status_code == 403, (visitor, "a form without its CSRF token must be refused")
            assert forged.headers["content-type"].startswith("text/html"), visitor
        response = send(http, visitors, method, path, visitor)
        got[visitor] = _seen(response, path)
        if response.status_code >= 400:
            assert response.headers["content-type"].startswith("text/html"), (visitor, response)
    wanted = {v: getattr(expect, v) for v in got}
    assert got == wanted, f"{method} {path}: got {got}, expected {wanted}"


FOREIGN_404 = sorted(
    (method, path)
    for (method, path), (expect, _) in PAGES.items()
    if 404 in (expect.other_consumer, expect.other_supplier)
)
_REFERENCE = re.compile(r"reference [0-9a-f]+")


@pytest.mark.parametrize(("method", "path"), FOREIGN_404, ids=lambda v: str(v))
def test_another_visitors_object_is_indistinguishable_from_none(
    built: tuple[TestClient, Runtime, Visitors], method: str, path: str
) -> None:
    """The 404 page for someone else's object is the very page a made-up id gets."""
    expect, _ = PAGES[(method, path)]
    http, _, visitors = built
    visitor = "other_consumer" if expect.other_consumer == 404 else "other_supplier"
    values = _values(visitors, visitor)
    theirs = send(http, visitors, method, path, visitor, values)
    made_up = {k: (v[:4] + secrets.token_hex(16) if k.endswith("_id") else v) for k, v in values.items()}
    nobodys = send(http, visitors, method, path, visitor, made_up)
    assert theirs.status_code == nobodys.status_code == 404
    assert _REFERENCE.sub("", theirs.text) == _REFERENCE.sub("", nobodys.text)
