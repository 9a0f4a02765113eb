"""The consent portfolio through the API: grant, refuse, withdraw (in force at once), receipts verified with
PyJWT against the published JWKS, history, standing terms, GPC, and per-object authorization."""

from __future__ import annotations

import json

import jwt as pyjwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from consent.decision import Reason
from consent.vocabulary import Category, Purpose, ReleaseKind
from infomediary.consents.decision_point import decide_for, supplier_query
from infomediary.consents.models import ConsentRecordRow
from infomediary.database import unit_of_work
from infomediary.policylog.models import PolicyLogEntry
from infomediary.runtime import Runtime
from tests.fixtures.actors import make_consumer, make_supplier
from tests.fixtures.consents import ORDINARY, grant, later, publish


def _verify(http: TestClient, token: str) -> dict[str, object]:
    keys = http.get("/.well-known/jwks.json").json()["keys"]
    header = pyjwt.get_unverified_header(token)
    assert header["typ"] == "consent-receipt+jwt" and header["alg"] == "ES256"
    [key] = [k for k in keys if k["kid"] == header["kid"]]
    public = pyjwt.PyJWK.from_dict(key).key
    return dict(pyjwt.decode(token, public, algorithms=["ES256"], options={"verify_aud": False}))


def _decide(
    runtime: Runtime, customer_id: str, supplier_id: str, purpose: Purpose, category: Category
) -> Reason:
    with unit_of_work(runtime.session_factory) as session:
        query = supplier_query(
            session,
            supplier_id=supplier_id,
            purpose=purpose,
            categories=[category],
            release_kind=ReleaseKind.PSEUDONYMOUS_SLICE,
        )
        return decide_for(session, runtime, customer_id, query).reason


def test_grant_returns_a_receipt_that_verifies_with_an_independent_jose_library(
    http: TestClient, runtime: Runtime
) -> None:
    consumer = make_consumer(http)
    supplier = make_supplier(runtime, name="Acme")
    publish(http, supplier, ["marketing"], [*ORDINARY, "health"])
    response = grant(http, consumer, supplier.owner_id, "marketing", "health", price=7)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["consent"]["state"] == "given" and body["consent"]["supplier"]["name"] == "Acme"
    claims = _verify(http, body["receipt"])
    assert claims["version"] == "KI-CR-v1.1.0" and claims["consentReceiptID"] == body["receipt_id"]
    assert claims["consentStatus"] == "https://w3id.org/dpv#ConsentGiven"
    assert claims["sensitive"] is True and claims["spiCat"] == ["health"]
    assert consumer.id not in json.dumps(claims)  # the principal is a pseudonym
    tampered = body["receipt"][:-4] + ("AAAA" if body["receipt"][-4:] != "AAAA" else "BBBB")
    with pytest.raises(pyjwt.InvalidSignatureError):
        _verify(http, tampered)
    latest = http.get(f"/v1/me/consents/{body['consent']['id']}/receipt", headers=consumer.headers)
    assert latest.json()["receipt"] == body["receipt"]


def test_a_withdrawn_consent_denies_the_very_next_request(http: TestClient, runtime: Runtime) -> None:
    consumer = make_consumer(http)
    supplier = make_supplier(runtime)
    publish(http, supplier, ["marketing"], [*ORDINARY, "health"])
    record = grant(http, consumer, supplier.owner_id, "marketing", "health").json()["consent"]
    assert _decide(runtime, consumer.id, supplier.owner_id, Purpose.MARKETING, Category.HEALTH) is (
        Reason.PERMITTED_BY_CONSENT
    )
    withdrawn = http.post(f"/v1/me/consents/{record['id']}/withdraw", headers=consumer.headers)
    assert withdrawn.status_code == 200 and withdrawn.json()["consent"]["state"] == "withdrawn"
    assert (
        _verify(http, withdrawn.json()["receipt"])["consentStatus"] == "https://w3id.org/dpv#ConsentWithdrawn"
    )
    # No wait, no job: the next decision, in a new transaction, already sees the withdrawal.
    assert _decide(runtime, consumer.id, supplier.owner_id, Purpose.MARKETING, Category.HEALTH) is (
        Reason.CONSENT_WITHDRAWN
    )
    history = http.get(f"/v1/me/consents/{record['id']}/events", headers=consumer.headers).json()
    assert [e["to_state"] for e in history] == ["given", "withdrawn"]
    again = http.post(f"/v1/me/consents/{record['id']}/withdraw", headers=consumer.headers)
    assert again.status_code == 409


def test_every_change_and_decision_is_in_the_policy_log(http: TestClient, runtime: Runtime) -> None:
    consumer = make_consumer(http)
    supplier = make_supplier(runtime)
    publish(http, supplier, ["marketing"], ORDINARY)
    record = grant(http, consumer, supplier.owner_id, "marketing", "interests").json()["consent"]
    http.post(f"/v1/me/consents/{record['id']}/withdraw", headers=consumer.headers)
    _decide(runtime, consumer.id, supplier.owner_id, Purpose.MARKETING, Category.INTERESTS)
    with runtime.read_session_factory() as session:
        kinds = list(session.scalars(select(PolicyLogEntry.kind).order_by(PolicyLogEntry.leaf_index)))
        entries = b"".join(session.scalars(select(PolicyLogEntry.entry)))
    assert kinds[-3:] == ["consent.granted", "consent.withdrawn", "decision"]
    assert consumer.id.encode() not in entries


def test_withdraw_all_is_one_call_with_one_receipt(http: TestClient, runtime: Runtime) -> None:
    consumer = make_consumer(http)
    supplier = make_supplier(runtime)
    publish(http, supplier, ["marketing", "personalisation"], ORDINARY)
    grant(http, consumer, supplier.owner_id, "marketing", "interests")
    grant(http, consumer, "*", "personalisation", "*")
    response = http.post("/v1/me/consents/withdraw-all", headers=consumer.headers)
    assert response.status_code == 200 and response.json()["withdrawn"] == 2
    assert len(_verify(http, response.json()["receipt"])["consentRecordIDs"]) == 2  # type: ignore[arg-type]
    states = {c["state"] for c in http.get("/v1/me/consents", headers=consumer.headers).json()["items"]}
    assert states == {"withdrawn"}
    assert http.post("/v1/me/consents/withdraw-all", headers=consumer.headers).json()["withdrawn"] == 0


def test_refusal_denies_an_opt_out_default_and_gets_a_receipt(http: TestClient, runtime: Runtime) -> None:
    consumer = make_consumer(http)
    supplier = make_supplier(runtime)
    publish(http, supplier, ["marketing"], ORDINARY)
    assert _decide(runtime, consumer.id, supplier.owner_id, Purpose.MARKETING, Category.INTERESTS) is (
        Reason.PERMITTED_BY_DEFAULT
    )
    body = {
        "supplier_id": supplier.owner_id,
        "purpose": "marketing",
        "category": "interests",
        "decision": "refuse",
    }
    refused = http.post("/v1/me/consents", json=body, headers=consumer.headers)
    assert refused.status_code == 201
    assert _verify(http, refused.json()["receipt"])["consentStatus"] == "https://w3id.org/dpv#ConsentRefused"
    assert _decide(runtime, consumer.id, supplier.owner_id, Purpose.MARKETING, Category.INTERESTS) is (
        Reason.CONSENT_REFUSED
    )


def test_portfolio_is_one_paginated_view_across_suppliers_in_plain_words(
    http: TestClient, runtime: Runtime
) -> None:
    consumer = make_consumer(http)
    first, second = make_supplier(runtime, name="First"), make_supplier(runtime, name="Second")
    for supplier in (first, second):
        publish(http, supplier, ["marketing"], ORDINARY)
        grant(http, consumer, supplier.owner_id, "marketing", "interests")
    grant(http, consumer, "*", "research_and_development", "*")
    page = http.get("/v1/me/consents?limit=2", headers=consumer.headers).json()
    rest = http.get(f"/v1/me/consents?limit=2&cursor={page['next_cursor']}", headers=consumer.headers).json()
    items = page["items"] + rest["items"]
    assert len(items) == 3 and rest["next_cursor"] is None
    names = {i["supplier"]["name"] if i["supplier"] else "*" for i in items}
    assert names == {"First", "Second", "*"}
    named = next(i for i in items if i["supplier"])
    assert named["supplier"]["policy"]["purposes"] == [{"key": "marketing", "label": "Marketing"}]
    assert named["purpose"]["label"] == "Marketing"


def test_another_consumers_consent_is_not_found(http: TestClient, runtime: Runtime) -> None:
    owner, other = make_consumer(http), make_consumer(http)
    supplier = make_supplier(runtime)
    publish(http, supplier, ["marketing"], ORDINARY)
    record = grant(http, owner, supplier.owner_id, "marketing", "interests").json()["consent"]
    for method, path in (
        ("post", f"/v1/me/consents/{record['id']}/withdraw"),
        ("get", f"/v1/me/consents/{record['id']}/receipt"),
        ("get", f"/v1/me/consents/{record['id']}/events"),
    ):
        response = http.request(method, path, headers=other.headers)
        assert response.status_code == 404 and response.json()["type"].endswith("consent-not-found")
    assert http.get("/v1/me/consents", headers=other.headers).json()["items"] == []
    assert http.get(f"/v1/me/consents/{record['id']}/events", headers=owner.headers).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/v1/me/consents"),
        ("post", "/v1/me/consents"),
        ("post", "/v1/me/consents/withdraw-all"),
        ("post", "/v1/me/consents/con_x/withdraw"),
        ("get", "/v1/me/consents/con_x/receipt"),
        ("get", "/v1/me/consents/con_x/events"),
        ("get", "/v1/me/terms"),
        ("put", "/v1/me/terms"),
        ("delete", "/v1/me/terms"),
        ("get", "/v1/me/inbox"),
        ("post", "/v1/me/inbox/req_x/accept"),
        ("post", "/v1/me/inbox/req_x/refuse"),
        ("get", "/v1/me/pseudonyms"),
        ("post", "/v1/me/pseudonyms"),
    ],
)
def test_consumer_routes_need_a_consumer(http: TestClient, runtime: Runtime, method: str, path: str) -> None:
    assert http.request(method, path).status_code == 401
    supplier = make_supplier(runtime)
    as_supplier = http.request(method, path, headers=supplier.headers(http))
    assert as_supplier.status_code == 401  # a supplier token is not a consumer session


@pytest.mark.parametrize(
    "body",
    [
        {"supplier_id": "*", "purpose": "astrology", "category": "*", "decision": "grant"},
        {"supplier_id": "*", "purpose": "marketing", "category": "shoe_size", "decision": "grant"},
        {"supplier_id": "*", "purpose": "marketing", "category": "*", "decision": "maybe"},
        {"supplier_id": "*", "purpose": "marketing", "category": "*", "decision": "grant", "price": -1},
        {"supplier_id": "*", "purpose": "marketing", "category": "*", "decision": "grant", "extra": 1},
        {"supplier_id": "x y", "purpose": "marketing", "category": "*", "decision": "grant"},
    ],
)
def test_invalid_consent_input_is_a_problem_that_changes_nothing(
    http: TestClient, runtime: Runtime, body: dict[str, object]
) -> None:
    consumer = make_consumer(http)
    response = http.post("/v1/me/consents", json=body, headers=consumer.headers)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    with runtime.read_session_factory() as session:
        assert session.scalar(select(func.count()).select_from(ConsentRecordRow)) == 0


def test_grant_to_unknown_supplier_or_one_without_policy(http: TestClient, runtime: Runtime) -> None:
    consumer = make_consumer(http)
    unknown = grant(http, consumer, "sup_nope", "marketing", "interests")
    assert unknown.status_code == 404
    supplier = make_supplier(runtime)
    no_policy = grant(http, consumer, supplier.owner_id, "marketing", "interests")
    assert no_policy.status_code == 409 and no_policy.json()["type"].endswith("supplier-policy-required")
    past = grant(http, consumer, "*", "marketing", "interests", expires_at="2000-01-01T00:00:00Z")
    assert past.status_code == 422


def test_expiry_takes_effect_at_decision_time(http: TestClient, runtime: Runtime) -> None:
    consumer = make_consumer(http)
    supplier = make_supplier(runtime)
    publish(http, supplier, ["marketing"], [*ORDINARY, "health"])
    grant(http, consumer, supplier.owner_id, "marketing", "health", expires_at=later(1))
    with unit_of_work(runtime.session_factory) as session:
        from datetime import UTC, datetime, timedelta

        query = supplier_query(
            session,
            supplier_id=supplier.owner_id,
            purpose=Purpose.MARKETING,
            categories=[Category.HEALTH],
            release_kind=ReleaseKind.PSEUDONYMOUS_SLICE,
            now=datetime.now(UTC) + timedelta(days=2),
        )
        assert decide_for(session, runtime, consumer.id, query).reason is Reason.OPT_IN_REQUIRED


def test_standing_terms_override_grants(http: TestClient, runtime: Runtime) -> None:
    consumer = make_consumer(http)
    supplier = make_supplier(runtime)
    publish(http, supplier, ["marketing"], [*ORDINARY, "health"])
    grant(http, consumer, supplier.owner_id, "marketing", "health")
    put = http.put(
        "/v1/me/terms",
        json={
            "terms": [{"kind": "never_category", "category": "health"}, {"kind": "min_price", "credits": 5}]
        },
        headers=consumer.headers,
    )
    assert put.status_code == 200 and len(put.json()["terms"]) == 2
    assert (
        _decide(runtime, consumer.id, supplier.owner_id, Purpose.MARKETING, Category.HEALTH)
        is Reason.NEVER_CATEGORY
    )
    assert (
        _decide(runtime, consumer.id, supplier.owner_id, Purpose.MARKETING, Category.INTERESTS)
        is Reason.PRICE_TOO_LOW
    )
    assert http.delete("/v1/me/terms", headers=consumer.headers).status_code == 204
    assert http.get("/v1/me/terms", headers=consumer.headers).json()["terms"] == []


@pytest.mark.parametrize(
    "terms",
    [
        [{"kind": "never_category"}],
        [{"kind": "never_purpose", "category": "health"}],
        [{"kind": "min_price", "credits": -3}],
        [{"kind": "only_unstruck_suppliers", "purpose": "marketing"}],
        [{"kind": "only_unstruck_suppliers"}] * 51,
        [{"kind": "sometimes"}],
    ],
)
def test_invalid_terms_are_a_422_problem_that_changes_nothing(
    http: TestClient, terms: list[dict[str, object]]
) -> None:
    consumer = make_consumer(http)
    http.put(
        "/v1/me/terms",
        json={"terms": [{"kind": "never_purpose", "purpose": "marketing"}]},
        headers=consumer.headers,
    )
    response = http.put("/v1/me/terms", json={"terms": terms}, headers=consumer.headers)
    assert response.status_code == 422 and response.headers["content-type"].startswith(
        "application/problem+json"
    )
    assert [t["kind"] for t in http.get("/v1/me/terms", headers=consumer.headers).json()["terms"]] == [
        "never_purpose"
    ]


def test_sec_gpc_records_an_opt_out_of_sale_and_sharing(http: TestClient, runtime: Runtime) -> None:
    assert http.get("/.well-known/gpc.json").json()["gpc"] is True
    consumer = make_consumer(http)
    supplier = make_supplier(runtime)
    publish(http, supplier, ["sell_data_to_third_parties"], ORDINARY)
    grant(http, consumer, "*", "sell_data_to_third_parties", "interests")
    assert (
        _decide(
            runtime, consumer.id, supplier.owner_id, Purpose.SELL_DATA_TO_THIRD_PARTIES, Category.INTERESTS
        )
        is Reason.PERMITTED_BY_CONSENT
    )
    http.get("/v1/me", headers={**consumer.headers, "Sec-GPC": "1"})
    assert (
        _decide(
            runtime, consumer.id, supplier.owner_id, Purpose.SELL_DATA_TO_THIRD_PARTIES, Category.INTERESTS
        )
        is Reason.GPC_OPT_OUT
    )
    # A grant naming this supplier, made after the signal, is the customer's newer word.
    grant(
        http,
        consumer,
        supplier.owner_id,
        "sell_data_to_third_parties",
        "interests",
    )
    assert (
        _decide(
            runtime, consumer.id, supplier.owner_id, Purpose.SELL_DATA_TO_THIRD_PARTIES, Category.INTERESTS
        )
        is Reason.PERMITTED_BY_CONSENT
    )
    with runtime.read_session_factory() as session:
        reasons = list(
            session.scalars(select(PolicyLogEntry.entry).where(PolicyLogEntry.kind == "consent.refused"))
        )
    assert any(b"sec-gpc" in r for r in reasons)
