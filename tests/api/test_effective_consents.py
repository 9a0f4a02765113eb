"""`GET /v1/me/consents/effective`: every supplier, whatever its status, with what it may do now and why; the
answers are those a supplier gets when it asks (cross-checked against the decisions logged for its requests)
and they change the moment the customer answers; documented in OpenAPI with its problems."""

from __future__ import annotations

import base64
import json
from typing import Any

from fastapi.testclient import TestClient

from consent.vocabulary import Category, Purpose
from infomediary.runtime import Runtime
from tests.fixtures.actors import Client, Consumer, make_auditor, make_consumer, make_supplier
from tests.fixtures.consents import grant, later, pseudonym_for, publish

PATH = "/v1/me/consents/effective"


def _pages(http: TestClient, consumer: Consumer, limit: int = 20) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": limit}
    for _ in range(50):
        response = http.get(PATH, params=params, headers=consumer.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["items"]
        if body["next_cursor"] is None:
            return items
        params["cursor"] = body["next_cursor"]
    raise AssertionError("the cursor never ended")


def _grid(http: TestClient, consumer: Consumer, supplier: Client) -> dict[tuple[str, str], dict[str, Any]]:
    [item] = [i for i in _pages(http, consumer) if i["supplier"]["id"] == supplier.owner_id]
    return {(c["purpose"], c["category"]): c for c in item["cells"]}


def _warn(http: TestClient, runtime: Runtime, supplier: Client, kind: str = "warning") -> None:
    auditor = make_auditor(runtime)
    body = {"supplier_id": supplier.owner_id, "kind": kind, "reason": "kept data too long"}
    assert http.post("/v1/audit/sanctions", json=body, headers=auditor.headers(http)).status_code == 201


def test_every_supplier_is_listed_with_its_status_a_page_at_a_time(
    http: TestClient, runtime: Runtime
) -> None:
    consumer = make_consumer(http)
    active, warned, suspended = (make_supplier(runtime, name=n) for n in ("Beta", "Alpha", "Gamma"))
    for supplier in (active, warned, suspended):
        publish(http, supplier, ["marketing"], ["interests"])
    _warn(http, runtime, warned)
    _warn(http, runtime, suspended, "suspension")
    items = _pages(http, consumer, limit=1)
    mine = [
        i["supplier"]
        for i in items
        if i["supplier"]["id"] in {active.owner_id, warned.owner_id, suspended.owner_id}
    ]
    assert [(s["name"], s["status"]) for s in mine] == [
        ("Alpha", "warned"),
        ("Beta", "active"),
        ("Gamma", "suspended"),
    ]
    # The warned supplier's default uses go on, and the grid says so: the customer can see and refuse them.
    cell = _grid(http, consumer, warned)[("marketing", "interests")]
    assert cell["permitted"] is True and cell["reason"] == "permitted_by_default"
    assert cell["changeable_by_consent"] is True
    # Full grid: every purpose x every category, the undeclared ones denied by the policy rule.
    item = next(i for i in items if i["supplier"]["id"] == warned.owner_id)
    assert len(item["cells"]) == len(Purpose) * len(Category)
    assert item["declared_purposes"] == ["marketing"] and item["declared_categories"] == ["interests"]
    undeclared = {(c["purpose"], c["category"]): c for c in item["cells"]}[("personalisation", "interests")]
    assert undeclared["reason"] == "undeclared_purpose" and undeclared["changeable_by_consent"] is False


def _leaves(http: TestClient, consumer: Consumer) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 200}
    while True:
        body = http.get("/v1/me/log", params=params, headers=consumer.headers).json()
        entries += [json.loads(base64.b64decode(e["leaf_input"])) for e in body["entries"]]
        if body["next_cursor"] is None:
            return entries
        params["cursor"] = body["next_cursor"]


def test_each_cell_is_what_the_supplier_gets_when_it_asks(http: TestClient, runtime: Runtime) -> None:
    consumer = make_consumer(http)
    supplier = make_supplier(runtime)
    purposes = ["marketing", "personalisation", "sell_data_to_third_parties", "research_and_development"]
    categories = ["interests", "activity", "contact", "health", "finances"]
    publish(http, supplier, purposes, categories)
    # Her consents and terms give the grid one cell of nearly every reason.
    grant(http, consumer, "*", "sell_data_to_third_parties", "*")
    grant(http, consumer, supplier.owner_id, "marketing", "health", expires_at=later())
    refused = {"supplier_id": supplier.owner_id, "purpose": "personalisation", "category": "activity"}
    assert http.post("/v1/me/consents", json={**refused, "decision": "refuse"}, headers=consumer.headers)
    withdrawn = grant(http, consumer, supplier.owner_id, "personalisation", "interests").json()["consent"]
    http.post(f"/v1/me/consents/{withdrawn['id']}/withdraw", headers=consumer.headers)
    terms = [
        {"kind": "never_purpose", "purpose": "research_and_development"},
        {"kind": "never_category", "category": "finances"},
        {"kind": "min_price", "category": "contact", "credits": 5},
    ]
    assert http.put("/v1/me/terms", json={"terms": terms}, headers=consumer.headers).status_code == 200
    # Her browser's signal, recorded by any call, overrides the grant to every supplier to sell.
    http.get("/v1/me", headers={**consumer.headers, "Sec-GPC": "1"})

    body = http.get(PATH, headers=consumer.headers).json()
    assert body["gpc_recorded_at"] is not None and body["restricted"] is False
    grid = _grid(http, consumer, supplier)
    reasons = {grid[(p, c)]["reason"] for p in purposes for c in categories}
    assert reasons >= {
        "permitted_by_default",
        "permitted_by_consent",
        "consent_refused",
        "consent_withdrawn",
        "gpc_opt_out",
        "opt_in_required",
        "never_purpose",
        "never_category",
        "price_too_low",
    }
    assert set(body["reasons"]) >= reasons
    assert body["reasons"]["permitted_by_default"] == (
        "Ordinary data for an ordinary purpose may be used unless you object."
    )
    assert grid[("marketing", "contact")]["asked_price"] == 5

    # The supplier asks for each cell on its own; the decision logged for it is the cell's.
    pseudonym = pseudonym_for(http, consumer, supplier)
    headers = supplier.headers(http)
    for purpose in purposes:
        for category in categories:
            asked = {
                "pseudonym": pseudonym,
                "purpose": purpose,
                "categories": [category],
                "expires_at": later(),
            }
            assert http.post("/v1/requests", json=asked, headers=headers).status_code == 201
    decided = {
        (e["purpose"], e["categories"][0]): e
        for e in _leaves(http, consumer)
        if e["kind"] == "decision" and e.get("supplier_id") == supplier.owner_id
    }
    for (purpose, category), entry in decided.items():
        cell = grid[(purpose, category)]
        assert (entry["decision"] == "permit", entry["reason"]) == (cell["permitted"], cell["reason"]), (
            purpose,
            category,
        )
    assert len(decided) == len(purposes) * len(categories)


def test_an_answer_changes_the_grid_at_once(http: TestClient, runtime: Runtime) -> None:
    consumer = make_consumer(http)
    supplier = make_supplier(runtime)
    publish(http, supplier, ["marketing"], ["interests", "health"])
    before = _grid(http, consumer, supplier)
    assert before[("marketing", "health")]["reason"] == "opt_in_required"
    record = grant(http, consumer, supplier.owner_id, "marketing", "health").json()["consent"]
    cell = _grid(http, consumer, supplier)[("marketing", "health")]
    assert cell["permitted"] is True and cell["consent_ids"] == [record["id"]]
    assert http.post("/v1/me/consents/withdraw-all", headers=consumer.headers).json()["withdrawn"] == 1
    assert _grid(http, consumer, supplier)[("marketing", "health")]["reason"] == "consent_withdrawn"
    assert http.post("/v1/me/restriction", headers=consumer.headers).status_code == 200
    body = http.get(PATH, headers=consumer.headers).json()
    assert body["restricted"] is True
    assert {c["reason"] for i in body["items"] for c in i["cells"]} == {"processing_restricted"}


def test_the_route_is_the_consumers_own_and_documented(http: TestClient, runtime: Runtime) -> None:
    unauthenticated = http.get(PATH)
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["content-type"].startswith("application/problem+json")
    supplier = make_supplier(runtime)
    assert http.get(PATH, headers=supplier.headers(http)).status_code == 401
    consumer = make_consumer(http)
    for params in ({"limit": 0}, {"limit": 21}, {"cursor": "not an id"}):
        bad = http.get(PATH, params=params, headers=consumer.headers)
        assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    assert http.get(PATH, params={"cursor": "sup_nobody"}, headers=consumer.headers).json()["items"] == []
    operation = http.get("/openapi.json").json()["paths"][PATH]["get"]
    assert {"200", "401", "422"} <= set(operation["responses"])
    assert "problem+json" in json.dumps(operation["responses"]["422"])
    assert {p["name"] for p in operation["parameters"]} == {"cursor", "limit"}
