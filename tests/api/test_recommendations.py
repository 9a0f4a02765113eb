"""Catalog, rules and recommendations through HTTP as each caller: scopes, own catalog only, no oracle for
another supplier's pseudonym, consent required (and logged), rules on unconsented categories never fire,
explanations and the off switch for the customer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from infomediary.database import unit_of_work
from infomediary.policylog.models import PolicyLogEntry
from infomediary.recommendations import training
from infomediary.runtime import Runtime
from tests.fixtures.actors import Client, Consumer, erase, make_auditor, make_consumer, make_supplier
from tests.fixtures.audiences import PROFILE, audience_runtime
from tests.fixtures.consents import pseudonym_for, publish

CATEGORIES = ["activity", "purchases", "demographics", "interests"]


def _items(prefix: str, count: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"{prefix}:{i}",
            "title": f"{prefix} item {i}",
            "categories": ["books" if i % 2 else "outdoor"],
            "price": 1000 + i,
            "currency": "EUR",
        }
        for i in range(count)
    ]


def _shop(http: TestClient, runtime: Runtime, prefix: str, count: int = 12) -> Client:
    supplier = make_supplier(runtime)
    publish(http, supplier, ["personalisation"], CATEGORIES)
    response = http.put("/v1/catalog", json={"items": _items(prefix, count)}, headers=supplier.headers(http))
    assert response.status_code == 200, response.text
    return supplier


def _views(http: TestClient, consumer: Consumer, items: list[str]) -> None:
    at = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    records = [{"kind": "view", "item": item, "occurred_at": at} for item in items]
    response = http.post("/v1/me/activity", json={"records": records}, headers=consumer.headers)
    assert response.status_code in (200, 201), response.text


def _train(runtime: Runtime, supplier: Client) -> training.TrainingReport:
    with unit_of_work(runtime.session_factory) as session:
        return training.train(session, runtime, supplier.owner_id, threads=1)


def test_routes_need_the_right_caller_and_scope(http: TestClient, runtime: Runtime) -> None:
    routes = [
        ("put", "/v1/catalog", "catalog:write", {"items": []}),
        ("get", "/v1/catalog", "catalog:write", None),
        ("post", "/v1/catalog/rules", "catalog:write", {"name": "x", "rule": {"then": []}}),
        ("get", "/v1/recommendations/abc", "recommendations:read", None),
        (
            "post",
            "/v1/recommendations/audience",
            "recommendations:read",
            {"predicate": {"eq": ["gender", "male"]}},
        ),
    ]
    consumer = make_consumer(http)
    auditor = make_auditor(runtime)
    for method, path, scope, body in routes:
        assert http.request(method, path, json=body).status_code == 401
        assert http.request(method, path, json=body, headers=consumer.headers).status_code == 401
        assert http.request(method, path, json=body, headers=auditor.headers(http)).status_code == 403
        other = "offers:write"
        unscoped = make_supplier(runtime, scopes=[other])
        assert http.request(method, path, json=body, headers=unscoped.headers(http)).status_code == 403, path
        scoped = make_supplier(runtime, scopes=[scope])
        allowed = http.request(method, path, json=body, headers=scoped.headers(http))
        assert allowed.status_code not in (401, 403), path
    assert http.get("/v1/me/recommendations/explanations?supplier_id=x").status_code == 401


def test_bulk_upload_lists_every_bad_row_and_stores_nothing(http: TestClient, runtime: Runtime) -> None:
    supplier = _shop(http, runtime, "sku", 3)
    rows = _items("new", 4)
    rows[1]["price"] = -5
    rows[3] = {**rows[0]}
    rows[2].pop("title")
    response = http.put("/v1/catalog", json={"items": rows}, headers=supplier.headers(http))
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["rows"] == [1, 2, 3]
    pointers = {e["pointer"] for e in response.json()["errors"]}
    assert "/body/items/1/price" in pointers and "/body/items/2/title" in pointers
    listed = http.get("/v1/catalog", headers=supplier.headers(http)).json()
    assert [i["id"] for i in listed["items"]] == ["sku:0", "sku:1", "sku:2"]


def test_replace_update_and_cursor_pages(http: TestClient, runtime: Runtime) -> None:
    supplier = _shop(http, runtime, "sku", 5)
    headers = supplier.headers(http)
    changed = http.patch(
        "/v1/catalog",
        json={
            "upsert": [{**_items("sku", 1)[0], "title": "Renamed"}, *_items("extra", 1)],
            "delete": ["sku:4"],
        },
        headers=headers,
    ).json()
    assert changed == {"created": 1, "updated": 1, "deleted": 1, "total": 5}
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = http.get("/v1/catalog", params=params, headers=headers).json()
        seen.extend(i["id"] for i in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["extra:0", "sku:0", "sku:1", "sku:2", "sku:3"]
    replaced = http.put("/v1/catalog", json={"items": _items("sku", 2)}, headers=headers).json()
    assert replaced["total"] == 2 and replaced["deleted"] == 3


def test_rules_are_validated_and_owned(http: TestClient, runtime: Runtime) -> None:
    supplier = _shop(http, runtime, "sku", 2)
    other = _shop(http, runtime, "oth", 2)
    bad = http.post(
        "/v1/catalog/rules",
        json={"name": "x", "rule": {"when": {"eq": ["shoe_size", 42]}, "then": [{"show_item": "sku:1"}]}},
        headers=supplier.headers(http),
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/body/rule/when/eq/0"
    made = http.post(
        "/v1/catalog/rules",
        json={
            "name": "over 45",
            "rule": {"when": {"range": ["age_band", "45-54", "65+"]}, "then": [{"show_item": "sku:1"}]},
        },
        headers=supplier.headers(http),
    )
    assert made.status_code == 201, made.text
    assert made.json()["categories"] == ["demographics"]
    rule_id = made.json()["id"]
    assert http.get(f"/v1/catalog/rules/{rule_id}", headers=other.headers(http)).status_code == 404
    assert http.delete(f"/v1/catalog/rules/{rule_id}", headers=other.headers(http)).status_code == 404
    assert http.delete(f"/v1/catalog/rules/{rule_id}", headers=supplier.headers(http)).status_code == 204


def test_recommendations_are_own_items_only_and_refused_for_another_suppliers_pseudonym(
    http: TestClient, runtime: Runtime
) -> None:
    shop = _shop(http, runtime, "sku")
    rival = _shop(http, runtime, "riv")
    consumers = [make_consumer(http) for _ in range(6)]
    for n, consumer in enumerate(consumers):
        # Each views some of both suppliers' items: the rival's must never appear in the shop's answer.
        _views(http, consumer, [f"sku:{(n + k) % 12}" for k in range(4)] + [f"riv:{k}" for k in range(3)])
    _train(runtime, shop)
    mine = pseudonym_for(http, consumers[0], shop)
    theirs = pseudonym_for(http, consumers[0], rival)
    response = http.get(f"/v1/recommendations/{mine}?n=5", headers=shop.headers(http))
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert items and all(i["id"].startswith("sku:") for i in items)
    viewed = {f"sku:{k}" for k in range(4)}
    assert not viewed & {i["id"] for i in items}
    for unknown in (theirs, "A" * 43):
        refused = http.get(f"/v1/recommendations/{unknown}", headers=shop.headers(http))
        assert refused.status_code == 404
        assert refused.json()["type"].endswith("pseudonym-unknown")


def test_personalisation_off_switch_refuses_and_is_logged(http: TestClient, runtime: Runtime) -> None:
    shop = _shop(http, runtime, "sku")
    consumer = make_consumer(http)
    _views(http, consumer, ["sku:1"])
    mine = pseudonym_for(http, consumer, shop)
    switched = http.put(
        f"/v1/me/recommendations/personalisation/{shop.owner_id}",
        json={"enabled": False},
        headers=consumer.headers,
    )
    assert switched.status_code == 200 and switched.json()["enabled"] is False
    before = len(http.get("/v1/me/log", headers=consumer.headers).json()["entries"])
    refused = http.get(f"/v1/recommendations/{mine}", headers=shop.headers(http))
    assert refused.status_code == 403
    after = http.get("/v1/me/log", headers=consumer.headers).json()["entries"]
    assert len(after) > before
    on = http.put(
        f"/v1/me/recommendations/personalisation/{shop.owner_id}",
        json={"enabled": True},
        headers=consumer.headers,
    )
    assert on.json()["enabled"] is True
    assert http.get(f"/v1/recommendations/{mine}", headers=shop.headers(http)).status_code == 200


def test_rules_on_unconsented_categories_never_fire(http: TestClient, runtime: Runtime) -> None:
    shop = _shop(http, runtime, "sku")
    consumer = make_consumer(http)
    assert (
        http.patch("/v1/me/profile", json={"birth_date": "1960-01-01"}, headers=consumer.headers).status_code
        == 200
    )
    rule = {"when": {"range": ["age_band", "45-54", "65+"]}, "then": [{"show_item": "sku:7"}]}
    made = http.post("/v1/catalog/rules", json={"name": "over 45", "rule": rule}, headers=shop.headers(http))
    assert made.status_code == 201
    mine = pseudonym_for(http, consumer, shop)
    _views(http, consumer, ["sku:1"])
    _train(runtime, shop)
    fired = http.get(f"/v1/recommendations/{mine}", headers=shop.headers(http)).json()
    assert fired["items"][0]["id"] == "sku:7" and fired["rules_fired"] == [made.json()["id"]]
    refuse = {
        "supplier_id": shop.owner_id,
        "purpose": "personalisation",
        "category": "demographics",
        "decision": "refuse",
    }
    assert http.post("/v1/me/consents", json=refuse, headers=consumer.headers).status_code in (200, 201)
    quiet = http.get(f"/v1/recommendations/{mine}", headers=shop.headers(http)).json()
    assert quiet["rules_fired"] == [] and all(i["source"] != "rule" for i in quiet["items"])


def test_explanations_show_drivers_and_exclusions_edit_them(http: TestClient, runtime: Runtime) -> None:
    shop = _shop(http, runtime, "sku")
    consumers = [make_consumer(http) for _ in range(5)]
    for consumer in consumers:
        _views(http, consumer, ["sku:1", "sku:2", "sku:3"])
    _train(runtime, shop)
    me = consumers[0]
    shown = http.get(f"/v1/me/recommendations/explanations?supplier_id={shop.owner_id}", headers=me.headers)
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert {d["item"] for d in body["drivers"]} == {"sku:1", "sku:2", "sku:3"}
    edited = http.put(
        "/v1/me/recommendations/explanations/exclusions",
        json={"supplier_id": shop.owner_id, "items": ["sku:1"]},
        headers=me.headers,
    )
    assert edited.status_code == 200, edited.text
    excluded = {d["item"] for d in edited.json()["drivers"] if d["excluded"]}
    assert excluded == {"sku:1"}
    for rec in edited.json()["recommendations"]:
        assert "sku item 1" not in rec["because"]


def test_erasure_deletes_the_customers_exclusions(http: TestClient, runtime: Runtime) -> None:
    shop = _shop(http, runtime, "sku")
    consumer = make_consumer(http)
    _views(http, consumer, ["sku:1"])
    body = {"supplier_id": shop.owner_id, "items": ["sku:1"]}
    assert (
        http.put(
            "/v1/me/recommendations/explanations/exclusions", json=body, headers=consumer.headers
        ).status_code
        == 200
    )
    erased = erase(http, consumer.headers)
    assert erased.status_code == 200, erased.text
    assert erased.json()["rows_deleted"]["recommendation_exclusions"] == 1


# Counts exact enough that suppression is certain either way; selections noisy at a scale of 2k/10.
AUDIENCE_SETTINGS: dict[str, Any] = {
    "audience_min_cohort": 3,
    "audience_epsilon": 20.0,
    "audience_epsilon_budget": 70.0,
    "recommend_audience_epsilon": 10.0,
    "recommend_min_item_customers": 2,
}


def _audience_items(client: TestClient, shop: Client, predicate: dict[str, Any], n: int) -> Any:
    return client.post(
        "/v1/recommendations/audience", json={"predicate": predicate, "n": n}, headers=shop.headers(client)
    )


def test_audience_top_items_are_a_charged_dp_selection_of_own_items(runtime: Runtime) -> None:
    women = {"eq": ["gender", "female"]}
    with (
        audience_runtime(runtime, **AUDIENCE_SETTINGS) as rt,
        TestClient(create_app(runtime=rt), base_url="http://127.0.0.1:8000") as client,
    ):
        shop = _shop(client, rt, "sku")
        _shop(client, rt, "riv")
        for _ in range(12):
            consumer = make_consumer(client)
            assert client.patch("/v1/me/profile", json=PROFILE, headers=consumer.headers).status_code == 200
            _views(client, consumer, ["sku:3", "riv:1"])
        first = _audience_items(client, shop, women, 3)
        assert first.status_code == 200, first.text
        body = first.json()
        assert body["selection"] == "differentially_private_top_k" and not body["suppressed"]
        # Twelve customers against nobody, at a noise scale of 0.6: the preference loses ~1e-6 of draws.
        assert body["items"][0]["id"] == "sku:3"
        assert (body["epsilon_charged"], body["epsilon_remaining"], body["cached"]) == (30.0, 40.0, False)
        # Averaging: the same request again is the stored draw, unspent.
        for _ in range(3):
            again = _audience_items(client, shop, women, 3).json()
            assert again["items"] == body["items"] and again["cached"]
            assert (again["epsilon_charged"], again["epsilon_remaining"]) == (0.0, 40.0)
        # Another n is another draw, charged (the count is the stored one); only catalogue items, never the
        # rival's item that every customer viewed.
        wide = _audience_items(client, shop, women, 50).json()
        assert (wide["epsilon_charged"], wide["epsilon_remaining"]) == (10.0, 30.0)
        ids = {i["id"] for i in wide["items"]}
        assert ids <= {f"sku:{i}" for i in range(12)}
        # A suppressed audience answers no items and spends nothing on them (only its count).
        men = _audience_items(client, shop, {"eq": ["gender", "male"]}, 3).json()
        assert men["suppressed"] and men["items"] == [] and men["audience_count"] is None
        assert (men["epsilon_charged"], men["epsilon_remaining"]) == (20.0, 10.0)
        assert _audience_items(client, shop, women, 2).json()["epsilon_remaining"] == 0.0
        spent = _audience_items(client, shop, women, 4)
        assert spent.status_code == 429 and int(spent.headers["Retry-After"]) > 0
    with runtime.read_session_factory() as session:
        released = session.scalars(
            select(PolicyLogEntry.epsilon_milli)
            .where(PolicyLogEntry.kind == "release", PolicyLogEntry.supplier_id == shop.owner_id)
            .order_by(PolicyLogEntry.leaf_index)
        ).all()
    # Per request: the count's entry, then the selection's (the suppressed request has only its count's).
    assert released == [20_000, 10_000] + [0, 0] * 3 + [0, 10_000] + [20_000] + [0, 10_000]
