"""Supplier side of consent: versioned privacy policies (widening invalidates, narrowing does not), requests
to pseudonymous customers answered by standing terms or in the inbox, and unlinkable pairwise pseudonyms."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from consent.decision import Reason
from consent.vocabulary import Category, Purpose, ReleaseKind
from infomediary.consents.decision_point import decide_for, supplier_query
from infomediary.consents.models import SupplierRequestRow
from infomediary.database import unit_of_work
from infomediary.policylog.models import PolicyLogEntry
from infomediary.runtime import Runtime
from tests.fixtures.actors import make_consumer, make_supplier
from tests.fixtures.consents import ORDINARY, grant, later, pseudonym_for, publish


def _reason(runtime: Runtime, customer_id: str, supplier_id: str, category: Category) -> Reason:
    with unit_of_work(runtime.session_factory) as session:
        query = supplier_query(
            session,
            supplier_id=supplier_id,
            purpose=Purpose.MARKETING,
            categories=[category],
            release_kind=ReleaseKind.PSEUDONYMOUS_SLICE,
        )
        return decide_for(session, runtime, customer_id, query).reason


def test_a_widened_policy_invalidates_old_consents_and_asks_again(http: TestClient, runtime: Runtime) -> None:
    consumer = make_consumer(http)
    supplier = make_supplier(runtime)
    publish(http, supplier, ["marketing"], ["interests", "health"])
    record = grant(http, consumer, supplier.owner_id, "marketing", "health").json()["consent"]
    assert _reason(runtime, consumer.id, supplier.owner_id, Category.HEALTH) is Reason.PERMITTED_BY_CONSENT
    widened = publish(http, supplier, ["marketing", "personalisation"], ["interests", "health"])
    assert widened["widened"] is True and widened["invalidated_consents"] == 1
    assert widened["policy"]["consent_floor_version"] == 2
    assert _reason(runtime, consumer.id, supplier.owner_id, Category.HEALTH) is Reason.OPT_IN_REQUIRED
    [item] = http.get("/v1/me/consents", headers=consumer.headers).json()["items"]
    assert item["id"] == record["id"] and item["state"] == "invalidated"
    with runtime.read_session_factory() as session:
        logged = session.scalar(
            select(func.count())
            .select_from(PolicyLogEntry)
            .where(PolicyLogEntry.kind == "consent.invalidated")
        )
    assert logged == 1
    [asked] = http.get("/v1/me/inbox", headers=consumer.headers).json()["items"]
    assert asked["origin"] == "policy_change" and [c["key"] for c in asked["categories"]] == ["health"]
    accepted = http.post(f"/v1/me/inbox/{asked['id']}/accept", headers=consumer.headers)
    assert accepted.status_code == 200 and accepted.json()["receipt"]
    assert _reason(runtime, consumer.id, supplier.owner_id, Category.HEALTH) is Reason.PERMITTED_BY_CONSENT


def test_a_narrowed_policy_keeps_consents(http: TestClient, runtime: Runtime) -> None:
    consumer = make_consumer(http)
    supplier = make_supplier(runtime)
    publish(http, supplier, ["marketing", "personalisation"], ["interests", "health"])
    grant(http, consumer, supplier.owner_id, "marketing", "health")
    narrowed = publish(http, supplier, ["marketing"], ["health"])
    assert narrowed["widened"] is False and narrowed["invalidated_consents"] == 0
    assert narrowed["policy"]["version"] == 2 and narrowed["policy"]["consent_floor_version"] == 1
    assert _reason(runtime, consumer.id, supplier.owner_id, Category.HEALTH) is Reason.PERMITTED_BY_CONSENT
    history = http.get("/v1/supplier/policy", headers=supplier.headers(http)).json()
    assert [p["version"] for p in history["history"]] == [2, 1] and history["current"]["version"] == 2


def test_policy_routes_need_a_supplier_and_valid_input(http: TestClient, runtime: Runtime) -> None:
    assert http.get("/v1/supplier/policy").status_code == 401
    consumer = make_consumer(http)
    assert http.get("/v1/supplier/policy", headers=consumer.headers).status_code == 401
    supplier = make_supplier(runtime)
    bad = http.put(
        "/v1/supplier/policy",
        json={"purposes": ["astrology"], "categories": ["interests"]},
        headers=supplier.headers(http),
    )
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    assert http.get("/v1/supplier/policy", headers=supplier.headers(http)).json()["current"] is None


def test_pseudonyms_are_pairwise_and_unlinkable(http: TestClient, runtime: Runtime) -> None:
    consumer = make_consumer(http)
    first, second = make_supplier(runtime), make_supplier(runtime)
    for supplier in (first, second):
        publish(http, supplier, ["marketing"], ORDINARY)
    mine_at_first, mine_at_second = (
        pseudonym_for(http, consumer, first),
        pseudonym_for(http, consumer, second),
    )
    assert mine_at_first != mine_at_second and consumer.id not in (mine_at_first, mine_at_second)
    listed = http.get("/v1/me/pseudonyms", headers=consumer.headers).json()["pseudonyms"]
    assert {p["pseudonym"] for p in listed} == {mine_at_first, mine_at_second}
    body = {"purpose": "marketing", "categories": ["interests"], "expires_at": later()}
    # Supplier B presenting A's pseudonym learns nothing: the same 404 as a made-up one.
    stolen = http.post(
        "/v1/requests", json={**body, "pseudonym": mine_at_first}, headers=second.headers(http)
    )
    made_up = http.post("/v1/requests", json={**body, "pseudonym": "A" * 43}, headers=second.headers(http))
    assert stolen.status_code == made_up.status_code == 404
    strip = lambda p: {k: v for k, v in p.items() if k != "request_id"}  # noqa: E731
    assert strip(stolen.json()) == strip(made_up.json())
    own = http.post("/v1/requests", json={**body, "pseudonym": mine_at_second}, headers=second.headers(http))
    assert own.status_code == 201 and own.json()["pseudonym"] == mine_at_second
    assert consumer.id not in own.text


def test_requests_flow_through_the_inbox(http: TestClient, runtime: Runtime) -> None:
    consumer, other = make_consumer(http), make_consumer(http)
    supplier, rival = make_supplier(runtime), make_supplier(runtime)
    publish(http, supplier, ["marketing"], [*ORDINARY, "health"])
    body = {
        "pseudonym": pseudonym_for(http, consumer, supplier),
        "purpose": "marketing",
        "categories": ["health"],
        "price_offered": 4,
        "expires_at": later(),
    }
    created = http.post("/v1/requests", json=body, headers=supplier.headers(http, "requests:write"))
    assert created.status_code == 201 and created.json()["status"] == "pending"
    request_id = created.json()["id"]
    assert http.get(f"/v1/requests/{request_id}", headers=rival.headers(http)).status_code == 404
    assert http.post(f"/v1/me/inbox/{request_id}/accept", headers=other.headers).status_code == 404
    [item] = http.get("/v1/me/inbox", headers=consumer.headers).json()["items"]
    assert item["id"] == request_id and item["price_offered"] == 4
    assert http.post(f"/v1/me/inbox/{request_id}/accept", headers=consumer.headers).status_code == 200
    assert (
        http.get(f"/v1/requests/{request_id}", headers=supplier.headers(http)).json()["status"] == "accepted"
    )
    assert http.post(f"/v1/me/inbox/{request_id}/refuse", headers=consumer.headers).status_code == 409
    assert _reason(runtime, consumer.id, supplier.owner_id, Category.HEALTH) is Reason.PRICE_TOO_LOW  # asks 4


def test_standing_terms_answer_requests_at_once(http: TestClient, runtime: Runtime) -> None:
    consumer = make_consumer(http)
    supplier = make_supplier(runtime)
    publish(http, supplier, ["marketing"], [*ORDINARY, "health"])
    http.put(
        "/v1/me/terms",
        json={"terms": [{"kind": "never_category", "category": "health"}]},
        headers=consumer.headers,
    )
    body = {
        "pseudonym": pseudonym_for(http, consumer, supplier),
        "purpose": "marketing",
        "categories": ["health"],
        "expires_at": later(),
    }
    created = http.post("/v1/requests", json=body, headers=supplier.headers(http))
    assert created.status_code == 201 and created.json()["status"] == "refused_by_terms"
    assert http.get("/v1/me/inbox", headers=consumer.headers).json()["items"] == []


def test_a_withdrawn_consent_refuses_the_next_supplier_request(http: TestClient, runtime: Runtime) -> None:
    consumer = make_consumer(http)
    supplier = make_supplier(runtime)
    publish(http, supplier, ["marketing"], ORDINARY)
    record = grant(http, consumer, supplier.owner_id, "marketing", "interests").json()["consent"]
    assert http.post(f"/v1/me/consents/{record['id']}/withdraw", headers=consumer.headers).status_code == 200
    body = {
        "pseudonym": pseudonym_for(http, consumer, supplier),
        "purpose": "marketing",
        "categories": ["interests"],
        "expires_at": later(),
    }
    assert http.post("/v1/requests", json=body, headers=supplier.headers(http)).status_code == 201
    with runtime.read_session_factory() as session:
        last = session.scalars(
            select(PolicyLogEntry)
            .where(PolicyLogEntry.kind == "decision")
            .order_by(PolicyLogEntry.leaf_index.desc())
        ).first()
    assert last is not None and last.decision == "deny" and b"consent_withdrawn" in last.entry


def test_undeclared_use_is_a_distinct_logged_problem(http: TestClient, runtime: Runtime) -> None:
    consumer = make_consumer(http)
    supplier = make_supplier(runtime)
    publish(http, supplier, ["marketing"], ORDINARY)
    body = {
        "pseudonym": pseudonym_for(http, consumer, supplier),
        "purpose": "marketing",
        "categories": ["health"],
        "expires_at": later(),
    }
    response = http.post("/v1/requests", json=body, headers=supplier.headers(http))
    assert response.status_code == 403 and response.json()["type"].endswith("undeclared-use")
    assert response.json()["undeclared_categories"] == ["health"]
    with runtime.read_session_factory() as session:
        assert session.scalar(select(func.count()).select_from(SupplierRequestRow)) == 0
        denied = session.scalar(
            select(func.count()).select_from(PolicyLogEntry).where(PolicyLogEntry.decision == "deny")
        )
    assert denied == 1


@pytest.mark.parametrize(
    "change",
    [
        {"purpose": "astrology"},
        {"categories": []},
        {"price_offered": -1},
        {"expires_at": "yesterday"},
        {"pseudonym": "not a pseudonym!"},
        {"surprise": True},
    ],
)
def test_invalid_requests_are_422_problems_that_change_nothing(
    http: TestClient, runtime: Runtime, change: dict[str, object]
) -> None:
    supplier = make_supplier(runtime)
    body = {
        "pseudonym": "A" * 43,
        "purpose": "marketing",
        "categories": ["interests"],
        "expires_at": later(),
        **change,
    }
    response = http.post("/v1/requests", json=body, headers=supplier.headers(http))
    assert response.status_code == 422 and response.headers["content-type"].startswith(
        "application/problem+json"
    )
    with runtime.read_session_factory() as session:
        assert session.scalar(select(func.count()).select_from(SupplierRequestRow)) == 0


def test_request_routes_need_a_supplier_with_the_scope(http: TestClient, runtime: Runtime) -> None:
    body = {"pseudonym": "A" * 43, "purpose": "marketing", "categories": ["interests"], "expires_at": later()}
    assert http.post("/v1/requests", json=body).status_code == 401
    assert http.get("/v1/requests/req_x").status_code == 401
    consumer = make_consumer(http)
    assert http.post("/v1/requests", json=body, headers=consumer.headers).status_code == 401
    narrow = make_supplier(runtime, scopes=["audiences:read"])
    assert http.post("/v1/requests", json=body, headers=narrow.headers(http)).status_code == 403
    assert http.get("/v1/requests/req_x", headers=narrow.headers(http)).status_code == 403
