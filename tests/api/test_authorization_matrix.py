"""The authorization matrix: every route of the app, for every kind of caller, → the status it must answer.

The routes come from the app's own route table (its HTML pages aside: `tests/pages/test_page_matrix.py`),
so a new route cannot escape: a route with no row in `EXPECTATIONS` fails
`test_every_route_has_expectations` with the line to add. Each row names the expected status per caller;
`None` means the caller does not apply (the route names no object owned by someone else).

Callers (the columns of `Expect`):

- `anonymous`: no credentials at all.
- `consumer`: a logged-in consumer, with that consumer's own objects in the path and body.
- `other_consumer`: the same consumer, with another consumer's object (consent record, inbox request, offer).
- `supplier`: a supplier holding every scope, with its own objects (offer, request, pseudonym, rule, webhook).
- `unscoped`: a supplier holding no scope at all.
- `suspended`: a supplier with every scope whose token was issued before an auditor suspended it.
- `other_supplier`: the first supplier, with another supplier's offer, request, pseudonym, catalog rule or
  webhook endpoint.
- `auditor`: an auditor holding `audit:read` and `audit:write`.

Where the answer for another's object is 404, a second test checks that it is the same problem as for an
id that does not exist at all, so a 404 is no oracle for what others own.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Route

from api.pages import routing
from infomediary.runtime import Runtime
from infomediary.vouchers import code as codes
from tests.fixtures.actors import PASSWORD
from tests.fixtures.consents import later
from tests.fixtures.relay import DOMAIN, SELECTOR, public_pem, supplier_key
from tests.fixtures.world import CATEGORIES, WEBHOOK_URL, World, make_world, per_test_world

# --------------------------------------------------------------------------------------------------------
# The expectations: one row per route. Add a row here for every new route.
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    """The status each kind of caller must get. `None`: not applicable to this route."""

    anonymous: int
    consumer: int
    other_consumer: int | None
    supplier: int
    unscoped: int
    suspended: int
    other_supplier: int | None
    auditor: int


@dataclass(frozen=True)
class Call:
    """What to send besides the credentials. Strings in `json`, `params` and `data` may hold placeholders:
    `{record_id}`, `{request_id}`, `{offer_id}`, `{pseudonym}`, `{supplier_id}` (the caller's side of the
    world, or the other side's for `other_consumer`/`other_supplier`), `{email}` (the consumer's login),
    `{fresh_email}` (a new address each call), `{later}` (a time a month from now), `{idempotency_key}`."""

    json: Any = None
    params: dict[str, str] | None = None
    data: dict[str, str] | None = None
    headers: dict[str, str] | None = None


def consumer(ok: int, *, others: int | None = None) -> Expect:
    """A consumer route: suppliers and auditors are not consumers (401, their tokens are not sessions)."""
    return Expect(401, ok, others, 401, 401, 401, None, 401)


def supplier(ok: int, *, scoped: bool = True, others: int | None = None) -> Expect:
    """A supplier route: consumer sessions are not client tokens (401); auditors are the wrong actor (403)."""
    return Expect(401, 401, None, ok, 403 if scoped else ok, 403, others, 403)


def auditor(ok: int) -> Expect:
    """An auditor route: suppliers are the wrong actor (403); consumer sessions are not client tokens."""
    return Expect(401, 401, None, 403, 403, 403, None, ok)


def public(ok: int) -> Expect:
    """Anyone, with or without credentials."""
    return Expect(ok, ok, None, ok, ok, ok, None, ok)


CATALOG_ITEM = {
    "id": "sku:new",
    "title": "Walking socks",
    "categories": ["outdoor"],
    "price": 900,
    "currency": "EUR",
}
RULE = {"name": "socks", "rule": {"then": [{"show_item": "sku:new"}]}}

EXPECTATIONS: dict[tuple[str, str], tuple[Expect, Call]] = {
    # Operators, discovery and documentation.
    ("GET", "/healthz"): (public(200), Call()),
    ("GET", "/readyz"): (public(200), Call()),
    ("GET", "/metrics"): (public(200), Call()),
    ("GET", "/openapi.json"): (public(200), Call()),
    ("GET", "/docs"): (public(200), Call()),
    ("GET", "/docs/oauth2-redirect"): (public(200), Call()),
    ("GET", "/redoc"): (public(200), Call()),
    ("GET", "/.well-known/oauth-authorization-server"): (public(200), Call()),
    ("GET", "/.well-known/jwks.json"): (public(200), Call()),
    ("GET", "/.well-known/policy-log-key"): (public(200), Call()),
    ("GET", "/.well-known/gpc.json"): (public(200), Call()),
    ("GET", "/v1/schemas/export-v2.json"): (public(200), Call()),
    # OAuth clients authenticate with their client credentials, never with a bearer token.
    ("POST", "/oauth/token"): (public(401), Call(data={"grant_type": "client_credentials"})),
    ("POST", "/oauth/revoke"): (public(401), Call(data={"token": "not-a-token"})),
    # Accounts and sessions.
    ("POST", "/v1/accounts"): (public(202), Call(json={"email": "{fresh_email}", "password": PASSWORD})),
    ("POST", "/v1/session"): (public(200), Call(json={"email": "{email}", "password": PASSWORD})),
    ("DELETE", "/v1/session"): (consumer(204), Call()),
    # Mailed links and the second sign-in step: a token or challenge nobody was given, from anyone.
    ("POST", "/v1/accounts/verify"): (public(400), Call(json={"token": "t" * 43})),
    ("POST", "/v1/accounts/verify/resend"): (public(202), Call(json={"email": "{email}"})),
    ("POST", "/v1/accounts/email-change/confirm"): (
        public(400),
        Call(json={"token": "t" * 43, "password": "correct horse battery staple"}),
    ),
    ("POST", "/v1/accounts/password-reset"): (public(202), Call(json={"email": "{email}"})),
    ("POST", "/v1/accounts/password-reset/complete"): (
        public(400),
        Call(json={"token": "t" * 43, "new_password": "another long passphrase"}),
    ),
    ("POST", "/v1/session/second-factor"): (
        public(401),
        Call(json={"challenge": "c" * 43, "code": "123456"}),
    ),
    # The consumer's second factor.
    ("GET", "/v1/me/second-factor"): (consumer(200), Call()),
    ("POST", "/v1/me/second-factor"): (consumer(201), Call(json={"password": PASSWORD})),
    ("POST", "/v1/me/second-factor/confirm"): (consumer(409), Call(json={"code": "123456"})),
    ("DELETE", "/v1/me/second-factor"): (consumer(204), Call(json={"password": PASSWORD})),
    # The consumer's own data.
    ("GET", "/v1/me"): (consumer(200), Call()),
    ("DELETE", "/v1/me"): (consumer(200), Call(json={"password": PASSWORD})),
    ("POST", "/v1/me/password"): (
        consumer(204),
        Call(json={"current_password": PASSWORD, "new_password": "another long passphrase"}),
    ),
    ("GET", "/v1/me/profile"): (consumer(200), Call()),
    ("PATCH", "/v1/me/profile"): (consumer(200), Call(json={"occupation": "engineer"})),
    ("GET", "/v1/me/profile/history"): (consumer(200), Call()),
    ("GET", "/v1/me/activity"): (consumer(200), Call()),
    ("POST", "/v1/me/activity"): (
        consumer(201),
        Call(json={"records": [{"kind": "search", "occurred_at": "2026-01-01T00:00:00Z", "query": "boots"}]}),
    ),
    ("GET", "/v1/me/insights"): (consumer(200), Call()),
    ("GET", "/v1/me/export"): (consumer(200), Call()),
    ("GET", "/v1/me/restriction"): (consumer(200), Call()),
    ("POST", "/v1/me/restriction"): (consumer(200), Call()),
    ("DELETE", "/v1/me/restriction"): (consumer(200), Call()),
    ("GET", "/v1/me/log"): (consumer(200), Call()),
    ("GET", "/v1/me/aliases"): (consumer(200), Call()),
    ("POST", "/v1/me/aliases/{alias_id}/switch"): (consumer(200, others=404), Call(json={"on": False})),
    ("GET", "/v1/me/relayed-messages"): (consumer(200), Call()),
    ("GET", "/v1/me/relay-settings"): (consumer(200), Call()),
    ("PUT", "/v1/me/relay-settings"): (consumer(200), Call(json={"remote_images": "proxy"})),
    # The relay's image proxy: a token the relay did not make is no image, for anyone.
    ("GET", "/relay/images/{token}"): (public(404), Call()),
    ("GET", "/v1/me/relayed-messages/{message_id}"): (consumer(200, others=404), Call()),
    ("GET", "/v1/me/rewards"): (consumer(200), Call()),
    ("GET", "/v1/me/vouchers"): (consumer(200), Call()),
    ("POST", "/v1/me/vouchers"): (
        consumer(201),
        Call(
            json={"supplier_id": "{supplier_id}", "value": 1},
            headers={"Idempotency-Key": "{idempotency_key}"},
        ),
    ),
    ("GET", "/v1/me/privacy-loss"): (consumer(200), Call()),
    ("PUT", "/v1/me/privacy-loss/cap"): (consumer(200), Call(json={"epsilon": 4.5})),
    # Recommendations, as the consumer explains and steers them: a supplier id is no one's secret, and what
    # the consumer sets about any supplier is the consumer's own.
    ("GET", "/v1/me/recommendations/explanations"): (
        consumer(200),
        Call(params={"supplier_id": "{supplier_id}"}),
    ),
    ("PUT", "/v1/me/recommendations/explanations/exclusions"): (
        consumer(200),
        Call(json={"supplier_id": "{supplier_id}", "items": ["sku:female"]}),
    ),
    ("PUT", "/v1/me/recommendations/personalisation/{supplier_id}"): (
        consumer(200),
        Call(json={"enabled": False}),
    ),
    # Consents, standing terms, pseudonyms.
    ("GET", "/v1/me/consents"): (consumer(200), Call()),
    ("GET", "/v1/me/consents/effective"): (consumer(200), Call()),
    ("POST", "/v1/me/consents"): (
        consumer(201),
        Call(
            json={
                "supplier_id": "{supplier_id}",
                "purpose": "marketing",
                "category": "contact",
                "decision": "refuse",
            }
        ),
    ),
    ("POST", "/v1/me/consents/withdraw-all"): (consumer(200), Call()),
    ("POST", "/v1/me/consents/{record_id}/withdraw"): (consumer(200, others=404), Call()),
    ("GET", "/v1/me/consents/{record_id}/receipt"): (consumer(200, others=404), Call()),
    ("GET", "/v1/me/consents/{record_id}/events"): (consumer(200, others=404), Call()),
    ("GET", "/v1/me/terms"): (consumer(200), Call()),
    ("PUT", "/v1/me/terms"): (
        consumer(200),
        Call(json={"terms": [{"kind": "never_category", "category": "health"}]}),
    ),
    ("DELETE", "/v1/me/terms"): (consumer(204), Call()),
    ("GET", "/v1/me/pseudonyms"): (consumer(200), Call()),
    ("POST", "/v1/me/pseudonyms"): (consumer(201), Call(json={"supplier_id": "{supplier_id}"})),
    # Supplier requests and offers, as the consumer answers them.
    ("GET", "/v1/me/inbox"): (consumer(200), Call()),
    ("POST", "/v1/me/inbox/{request_id}/accept"): (consumer(200, others=404), Call()),
    ("POST", "/v1/me/inbox/{request_id}/refuse"): (consumer(200, others=404), Call()),
    ("GET", "/v1/me/offers"): (consumer(200), Call()),
    ("POST", "/v1/me/offers/{offer_id}/view"): (consumer(200, others=404), Call()),
    ("POST", "/v1/me/offers/{offer_id}/accept"): (consumer(200, others=404), Call()),
    ("POST", "/v1/me/offers/{offer_id}/dismiss"): (consumer(204, others=404), Call()),
    ("POST", "/v1/me/offers/{offer_id}/report"): (consumer(204, others=404), Call()),
    # The supplier's own record (no scope needed: a supplier always sees its own status and ledger).
    ("GET", "/v1/supplier"): (supplier(200, scoped=False), Call()),
    ("GET", "/v1/supplier/policy"): (supplier(200, scoped=False), Call()),
    # Any supplier may bind one; one that has not (the unscoped supplier here) has nothing to read.
    ("GET", "/v1/supplier/sending-domain"): (Expect(401, 401, None, 200, 404, 403, None, 403), Call()),
    ("PUT", "/v1/supplier/sending-domain"): (
        supplier(200, scoped=False),
        Call(json={"domain": DOMAIN, "selector": SELECTOR, "public_key": public_pem(supplier_key())}),
    ),
    ("PUT", "/v1/supplier/policy"): (
        supplier(200, scoped=False),
        Call(json={"purposes": ["marketing"], "categories": CATEGORIES}),
    ),
    ("GET", "/v1/supplier/ledger"): (supplier(200, scoped=False), Call()),
    # The brokered API, each route behind its scope.
    ("GET", "/v1/audiences/dimensions"): (supplier(200), Call()),
    ("POST", "/v1/audiences/count"): (
        supplier(200),
        Call(json={"purpose": "marketing", "predicate": {"eq": ["gender", "female"]}}),
    ),
    ("POST", "/v1/slices"): (supplier(200), Call(json={"purpose": "marketing", "fields": ["gender"]})),
    ("POST", "/v1/offers"): (
        supplier(201),
        Call(
            json={
                "content": "Boots",
                "purpose": "marketing",
                "predicate": {"eq": ["gender", "female"]},
                "reward_per_view": 1,
                "reward_per_acceptance": 2,
                "budget_cap": 10,
                "expires_at": "{later}",
            },
            headers={"Idempotency-Key": "{idempotency_key}"},
        ),
    ),
    ("GET", "/v1/offers/{offer_id}"): (supplier(200, others=404), Call()),
    ("POST", "/v1/requests"): (
        supplier(201, others=404),
        Call(
            json={
                "pseudonym": "{pseudonym}",
                "purpose": "marketing",
                "categories": ["interests"],
                "expires_at": "{later}",
            }
        ),
    ),
    ("GET", "/v1/requests/{request_id}"): (supplier(200, others=404), Call()),
    ("GET", "/v1/offers"): (supplier(200), Call()),
    ("POST", "/v1/offers/{offer_id}/withdraw"): (supplier(200, others=404), Call()),
    # The catalog and its rules (catalog:write).
    ("GET", "/v1/catalog"): (supplier(200), Call()),
    ("PUT", "/v1/catalog"): (supplier(200), Call(json={"items": [CATALOG_ITEM]})),
    ("PATCH", "/v1/catalog"): (supplier(200), Call(json={"upsert": [CATALOG_ITEM], "delete": ["sku:gone"]})),
    ("GET", "/v1/catalog/rules"): (supplier(200), Call()),
    ("POST", "/v1/catalog/rules"): (supplier(201), Call(json=RULE)),
    ("GET", "/v1/catalog/rules/{rule_id}"): (supplier(200, others=404), Call()),
    ("PUT", "/v1/catalog/rules/{rule_id}"): (supplier(200, others=404), Call(json=RULE)),
    ("DELETE", "/v1/catalog/rules/{rule_id}"): (supplier(204, others=404), Call()),
    # Recommendations (recommendations:read): another supplier's pseudonym is unknown here.
    ("GET", "/v1/recommendations/{pseudonym}"): (supplier(200, others=404), Call()),
    ("POST", "/v1/recommendations/audience"): (
        supplier(200),
        Call(json={"predicate": {"eq": ["gender", "female"]}, "n": 5}),
    ),
    # Vouchers (vouchers:redeem): another supplier's voucher is as unknown as a code nobody was given.
    ("POST", "/v1/vouchers/redeem"): (
        supplier(200, others=404),
        Call(json={"code": "{voucher_code}"}, headers={"Idempotency-Key": "{idempotency_key}"}),
    ),
    # Webhook endpoints (events:subscribe).
    ("GET", "/v1/supplier/webhooks"): (supplier(200), Call()),
    ("POST", "/v1/supplier/webhooks"): (
        supplier(201),
        Call(json={"url": WEBHOOK_URL, "event_types": ["request.answered"]}),
    ),
    ("GET", "/v1/supplier/webhooks/{webhook_id}"): (supplier(200, others=404), Call()),
    ("DELETE", "/v1/supplier/webhooks/{webhook_id}"): (supplier(204, others=404), Call()),
    ("POST", "/v1/supplier/webhooks/{webhook_id}/secret"): (supplier(200, others=404), Call()),
    ("GET", "/v1/supplier/webhooks/{webhook_id}/deliveries"): (supplier(200, others=404), Call()),
    # Auditors.
    ("GET", "/v1/audit/tree-head"): (auditor(200), Call()),
    ("GET", "/v1/audit/entries"): (auditor(200), Call(params={"start": "0", "end": "1"})),
    ("GET", "/v1/audit/proofs/inclusion"): (auditor(200), Call(params={"leaf_index": "0", "tree_size": "2"})),
    ("GET", "/v1/audit/proofs/consistency"): (auditor(200), Call(params={"first": "1", "second": "2"})),
    ("GET", "/v1/audit/log"): (auditor(200), Call()),
    ("GET", "/v1/audit/tree-heads"): (auditor(200), Call()),
    ("GET", "/v1/audit/reports/processing"): (auditor(200), Call()),
    ("GET", "/v1/audit/reports/article30"): (auditor(200), Call()),
    ("POST", "/v1/audit/findings"): (
        auditor(201),
        Call(json={"supplier_id": "{supplier_id}", "severity": "low", "text": "late deletion"}),
    ),
    ("POST", "/v1/audit/sanctions"): (
        auditor(201),
        Call(json={"supplier_id": "{supplier_id}", "kind": "warning", "reason": "late deletion"}),
    ),
}

# --------------------------------------------------------------------------------------------------------
# The machinery: the route table, the callers, the placeholders.
# --------------------------------------------------------------------------------------------------------

CALLERS = [f.name for f in fields(Expect)]
FOREIGN = {"other_consumer", "other_supplier"}


def app_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) the app answers but its pages, HEAD aside (Starlette adds it to every GET)."""
    try:
        from fastapi.routing import iter_route_contexts  # FastAPI >= 0.120 nests included routers
    except ImportError:  # pragma: no cover - older FastAPI keeps a flat route list
        found = [(r.path, r.methods or set()) for r in app.routes if isinstance(r, APIRoute | Route)]
    else:
        found = [(c.path or "", c.methods or set()) for c in iter_route_contexts(app.routes)]
    pages = page_route_table(app)
    return sorted({(m, path) for path, methods in found for m in methods if m != "HEAD"} - pages)


def page_route_table(app: FastAPI) -> set[tuple[str, str]]:
    """The HTML pages' (method, path): their callers hold cookies, not tokens, so they have their own matrix
    (`tests/pages/test_page_matrix.py`); every other route is this one's."""
    return {(m, r.path) for r in routing.page_routes(app) for m in r.methods or set() if m != "HEAD"}


def _row_text(app: FastAPI, method: str, path: str) -> str:
    """The row to add for a route, guessed from its OpenAPI entry: who it is for, its success status, and
    404 for someone else's object when the path names one. Check the guess before pasting it."""
    operation = app.openapi()["paths"].get(path, {}).get(method.lower(), {})
    ok = next((code for code in operation.get("responses", {}) if code.startswith("2")), "200")
    schemes = {name: scopes for r in operation.get("security", []) for name, scopes in r.items()}
    others = ", others=404" if "{" in path else ""
    if "ConsumerSession" in schemes:
        kind = f"consumer({ok}{others})"
    elif "OAuthClient" in schemes and "audit" in operation.get("tags", []):
        kind = f"auditor({ok})"
    elif "OAuthClient" in schemes:
        scoped = "" if schemes["OAuthClient"] else ", scoped=False"
        kind = f"supplier({ok}{scoped}{others})"
    else:
        kind = f"public({ok})"
    body = ", Call(json={...})" if "requestBody" in operation else ", Call()"
    return f'    ("{method}", "{path}"): ({kind}{body}),'


def test_every_route_has_expectations(app: FastAPI) -> None:
    routes = app_routes(app)
    missing = [route for route in routes if route not in EXPECTATIONS]
    assert not missing, (
        f"{len(missing)} route(s) have no row in the authorization matrix. Add to EXPECTATIONS in "
        "tests/api/test_authorization_matrix.py, with the status each caller must get (and a Call with "
        "a valid body if the route takes one):\n" + "\n".join(_row_text(app, m, p) for m, p in missing)
    )
    stale = [route for route in EXPECTATIONS if route not in routes]
    assert not stale, f"EXPECTATIONS names routes the app no longer has; remove them: {stale}"


def _fill(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):
        fresh = {**values, "fresh_email": f"new-{secrets.token_hex(4)}@example.org"}
        fresh["idempotency_key"] = secrets.token_hex(8)
        return value.format(**fresh)
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    return value


def _credentials(world: World, caller: str) -> dict[str, str]:
    return {
        "anonymous": {},
        "consumer": world.own.consumer.headers,
        "other_consumer": world.own.consumer.headers,
        "supplier": world.own.supplier_headers,
        "unscoped": world.unscoped,
        "suspended": world.suspended,
        "other_supplier": world.own.supplier_headers,
        "auditor": world.auditor,
    }[caller]


def _values(world: World, caller: str) -> dict[str, str]:
    side = world.other if caller in FOREIGN else world.own
    return {**side.ids, "email": world.own.consumer.email, "later": later(), "token": "t" * 43}


def send(
    http: TestClient, world: World, method: str, path: str, caller: str, values: dict[str, str] | None = None
) -> httpx.Response:
    _, call = EXPECTATIONS[(method, path)]
    values = values if values is not None else _values(world, caller)
    headers = {**_credentials(world, caller), **_fill(call.headers or {}, values)}
    # Logging in set a session cookie in the client; only the bearer credentials above may speak.
    http.cookies.clear()
    return http.request(
        method,
        path.format(**values),
        json=_fill(call.json, values),
        params=_fill(call.params, values),
        data=_fill(call.data, values),
        headers=headers,
    )


def _order(expect: Expect) -> Iterator[str]:
    """Refusals first, successes last: a success may change what the others see (a logout, an erasure)."""
    applicable = [c for c in CALLERS if getattr(expect, c) is not None]
    yield from sorted(applicable, key=lambda c: getattr(expect, c) < 400)


# Built once per module; each test rolls back to it. Erasing routes get their own (see `per_test_world`).
module_world, built = per_test_world(make_world, erasing={("DELETE", "/v1/me")})


@pytest.mark.parametrize(("method", "path"), sorted(EXPECTATIONS), ids=lambda v: str(v))
def test_each_caller_gets_the_expected_status(
    built: tuple[TestClient, Runtime, World], method: str, path: str
) -> None:
    expect, _ = EXPECTATIONS[(method, path)]
    http, _, world = built
    got = {}
    for caller in _order(expect):
        response = send(http, world, method, path, caller)
        got[caller] = response.status_code
        if response.status_code >= 400 and not path.startswith(("/docs", "/redoc")):
            assert response.headers["content-type"].startswith("application/problem+json"), (caller, response)
    wanted = {c: getattr(expect, c) for c in got}
    assert got == wanted, f"{method} {path}: got {got}, expected {wanted}"


FOREIGN_404 = sorted(
    (method, path)
    for (method, path), (expect, _) in EXPECTATIONS.items()
    if 404 in (expect.other_consumer, expect.other_supplier)
)


@pytest.mark.parametrize(("method", "path"), FOREIGN_404, ids=lambda v: str(v))
def test_another_callers_object_is_indistinguishable_from_none(
    built: tuple[TestClient, Runtime, World], method: str, path: str
) -> None:
    """The 404 for someone else's object is the very problem a made-up id gets: nothing to learn from it."""
    expect, _ = EXPECTATIONS[(method, path)]
    http, _, world = built
    caller = "other_consumer" if expect.other_consumer == 404 else "other_supplier"
    theirs = send(http, world, method, path, caller)
    made_up = {
        key: (value[:4] + secrets.token_hex(16) if key.endswith("_id") else secrets.token_urlsafe(32))
        for key, value in world.other.ids.items()
    }
    # A well-formed code nobody was given (a malformed one is refused before any lookup).
    made_up["voucher_code"] = codes.render(codes.new_secret())
    made_up |= {"email": world.own.consumer.email, "later": later()}
    nobodys = send(http, world, method, path, caller, made_up)
    assert theirs.status_code == nobodys.status_code == 404

    def comparable(response: httpx.Response) -> tuple[Any, ...]:
        body = {k: v for k, v in response.json().items() if k not in {"instance", "request_id"}}
        headers = {k: v for k, v in response.headers.items() if k not in {"x-request-id", "content-length"}}
        return body, headers

    assert comparable(theirs) == comparable(nobodys)
