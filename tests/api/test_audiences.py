"""Audience counts through HTTP as each caller: credentials, clear 422s, consent gating on the next request,
the 429 budget refusal, and the differencing (on the sets) and averaging attacks."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from infomediary.runtime import Runtime
from infomediary.sanctions.models import SupplierSanction
from tests.fixtures.actors import Client, Consumer, make_auditor, make_consumer, make_supplier
from tests.fixtures.audiences import PROFILE, audience_runtime, exact
from tests.fixtures.consents import grant, publish

CATEGORIES = ["demographics", "contact", "interests", "purchases"]
PARIS = {"and": [{"eq": ["gender", "female"]}, {"eq": ["postal_prefix", "75"]}]}


def _count(http: TestClient, supplier: Client, predicate: Any, purpose: str = "marketing", **kw: Any) -> Any:
    return http.post(
        "/v1/audiences/count",
        json={"purpose": purpose, "predicate": predicate},
        headers=supplier.headers(http),
        **kw,
    )


def _profiled(http: TestClient, count: int) -> list[Consumer]:
    consumers = [make_consumer(http) for _ in range(count)]
    for consumer in consumers:
        assert http.patch("/v1/me/profile", json=PROFILE, headers=consumer.headers).status_code == 200
    return consumers


@pytest.fixture
def exact_http(runtime: Runtime) -> Any:
    with exact(runtime) as rt, TestClient(create_app(runtime=rt), base_url="http://127.0.0.1:8000") as client:
        yield client, rt


def test_the_route_needs_a_supplier_with_the_scope(http: TestClient, runtime: Runtime) -> None:
    body = {"purpose": "marketing", "predicate": PARIS}
    assert http.post("/v1/audiences/count", json=body).status_code == 401
    consumer = make_consumer(http)
    assert http.post("/v1/audiences/count", json=body, headers=consumer.headers).status_code == 401
    auditor = make_auditor(runtime)
    assert http.post("/v1/audiences/count", json=body, headers=auditor.headers(http)).status_code == 403
    unscoped = make_supplier(runtime, scopes=["slices:read"])
    assert http.post("/v1/audiences/count", json=body, headers=unscoped.headers(http)).status_code == 403
    assert http.get("/v1/audiences/dimensions", headers=unscoped.headers(http)).status_code == 403
    supplier = make_supplier(runtime)
    listed = http.get("/v1/audiences/dimensions", headers=supplier.headers(http)).json()
    assert {d["key"] for d in listed["dimensions"]} >= {"age_band", "gender", "postal_prefix", "interest"}


@pytest.mark.parametrize(
    ("predicate", "says"),
    [
        ({"eq": ["email", "a@b.c"]}, "unknown dimension"),
        ({"eq": ["age_band", "33"]}, "not a value of age_band"),
        ({"range": ["gender", "female", "male"]}, "no order"),
        ({"and": [{"eq": ["gender", "female"]}] * 21}, "more than 20 conditions"),
        ({"not": {"not": {"not": {"not": {"not": {"eq": ["gender", "male"]}}}}}}, "nested"),
        ({"near": ["postal_prefix", "75"]}, "exactly one of"),
    ],
)
def test_invalid_predicates_get_a_clear_422(
    http: TestClient, runtime: Runtime, predicate: Any, says: str
) -> None:
    supplier = make_supplier(runtime)
    response = _count(http, supplier, predicate)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert says in response.text


def test_withdrawal_and_restriction_take_effect_on_the_next_request(exact_http: Any) -> None:
    http, rt = exact_http
    supplier = make_supplier(rt)
    publish(http, supplier, ["marketing"], CATEGORIES)
    leaver, restricter, _ = _profiled(http, 3)
    assert _count(http, supplier, PARIS).json()["count"] == 3
    refused = grant(http, leaver, supplier.owner_id, "marketing", "contact", decision="refuse")
    assert refused.status_code in (200, 201), refused.text
    after = _count(http, supplier, PARIS).json()
    assert after["count"] == 2 and after["cached"] is False
    assert http.post("/v1/me/restriction", headers=restricter.headers).status_code == 200
    assert _count(http, supplier, PARIS).json()["count"] == 1


def test_sale_purposes_need_a_grant_and_gpc_overrides_it(exact_http: Any) -> None:
    http, rt = exact_http
    supplier = make_supplier(rt)
    publish(http, supplier, ["sell_data_to_third_parties"], CATEGORIES)
    seller, _ = _profiled(http, 2)
    predicate = {"eq": ["interest", "cycling"]}
    for category in ("interests",):
        assert grant(http, seller, supplier.owner_id, "sell_data_to_third_parties", category).status_code in (
            200,
            201,
        )
    assert _count(http, supplier, predicate, "sell_data_to_third_parties").json()["count"] == 1
    http.get("/v1/me/profile", headers={**seller.headers, "Sec-GPC": "1"})
    assert _count(http, supplier, predicate, "sell_data_to_third_parties").json()["count"] == 0


def test_averaging_reveals_nothing_and_the_spent_budget_refuses(http: TestClient, runtime: Runtime) -> None:
    settings = {"audience_min_cohort": 0, "audience_epsilon": 0.5, "audience_epsilon_budget": 1.0}
    with audience_runtime(runtime, **settings) as rt:
        client = TestClient(create_app(runtime=rt), base_url="http://127.0.0.1:8000")
        supplier = make_supplier(rt)
        publish(client, supplier, ["marketing"], CATEGORIES)
        _profiled(client, 5)
        # Averaging: the same query twenty times gives one answer, charged once.
        answers = [_count(client, supplier, PARIS).json() for _ in range(20)]
        assert len({a["count"] for a in answers}) == 1 and sum(a["epsilon_charged"] for a in answers) == 0.5
        assert _count(client, supplier, {"eq": ["gender", "female"]}).status_code == 200
        refused = _count(client, supplier, {"eq": ["postal_prefix", "75"]})
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        assert refused.json()["resets_at"].endswith("Z")
        client.close()
    with runtime.read_session_factory() as session:
        reasons = session.scalars(
            select(SupplierSanction.reason).where(SupplierSanction.supplier_id == supplier.owner_id)
        ).all()
    # Reaching the budget is not abuse: no strike.
    assert reasons == []


def test_differencing_on_the_sets_is_refused_however_the_pair_is_spelled(
    http: TestClient, runtime: Runtime
) -> None:
    """The target is the one customer in the 65+ band; everyone else (born in 1990) is 35-44."""
    settings = {
        "audience_min_cohort": 3,
        "audience_differencing_window": 32,
        "audience_epsilon": 100.0,
        "audience_epsilon_budget": 100_000.0,
    }
    with audience_runtime(runtime, **settings) as rt:
        client = TestClient(create_app(runtime=rt), base_url="http://127.0.0.1:8000")
        supplier = make_supplier(rt)
        publish(client, supplier, ["marketing"], CATEGORIES)
        _profiled(client, 4)
        target = make_consumer(client)
        client.patch("/v1/me/profile", json={**PROFILE, "birth_date": "1950-01-01"}, headers=target.headers)
        assert _count(client, supplier, PARIS).status_code == 200
        # The population without the target, spelled three ways: each is one customer from the first answer.
        without = {"not": {"eq": ["age_band", "65+"]}}
        attempts = [
            {"and": [*PARIS["and"], without]},
            # Padded with an alternative that matches nobody, so no top-level condition is shared.
            {"or": [{"and": [*PARIS["and"], without]}, {"and": [PARIS["and"][0], {"not": PARIS["and"][0]}]}]},
            {"and": [PARIS["and"][0], {"in": ["postal_prefix", ["75"]]}, {"eq": ["age_band", "35-44"]}]},
        ]
        for attempt in attempts:
            refused = _count(client, supplier, attempt)
            assert refused.status_code == 403, refused.text
            assert refused.headers["content-type"].startswith("application/problem+json")
            assert refused.json()["type"].endswith("differencing-refused")
            assert "count" not in refused.json()
        # A query far from every recent one is answered.
        assert _count(client, supplier, {"eq": ["gender", "male"]}).status_code == 200
        client.close()
    with runtime.read_session_factory() as session:
        sanctions = session.scalars(
            select(SupplierSanction).where(SupplierSanction.supplier_id == supplier.owner_id)
        ).all()
    assert len(sanctions) == 3
    assert all("differencing" in s.reason and s.auditor_id is None for s in sanctions)
