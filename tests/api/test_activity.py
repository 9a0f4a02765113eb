"""The consumer records their own activity and purchases, pages through it, and sees derived figures that
say which records they came from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from infomediary.profiles.records import MAX_BATCH
from tests.fixtures.actors import make_consumer


def _at(days_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days_ago)).isoformat()


def _purchase(days_ago: float, amount: int, currency: str = "EUR") -> dict[str, object]:
    return {
        "kind": "purchase",
        "occurred_at": _at(days_ago),
        "amount": amount,
        "currency": currency,
        "items": [{"item": "sku:1", "quantity": 1}],
    }


def test_activity_round_trips_in_order_with_paging(http: TestClient) -> None:
    consumer = make_consumer(http)
    records = [
        {"kind": "view", "occurred_at": _at(5), "item": "sku:1"},
        {"kind": "search", "occurred_at": _at(4), "query": "rain boots"},
        {"kind": "cart_add", "occurred_at": _at(3), "item": "sku:1", "quantity": 2},
        {"kind": "cart_remove", "occurred_at": _at(3), "item": "sku:1"},
        {"kind": "rating", "occurred_at": _at(2), "item": "sku:1", "value": 4},
        _purchase(1, 4_999),
    ]
    created = http.post("/v1/me/activity", headers=consumer.headers, json={"records": records})
    assert created.status_code == 201 and created.json() == {"recorded": 6}
    first = http.get("/v1/me/activity?limit=4", headers=consumer.headers).json()
    rest = http.get(f"/v1/me/activity?limit=4&cursor={first['next_cursor']}", headers=consumer.headers).json()
    items = first["items"] + rest["items"]
    assert rest["next_cursor"] is None
    assert [i["kind"] for i in items] == [r["kind"] for r in records]
    assert items[4]["record"]["value"] == 4 and items[5]["record"]["amount"] == 4_999
    assert items[2]["record"]["quantity"] == 2 and items[3]["record"]["quantity"] == 1


def test_bad_activity_is_a_problem_and_records_nothing(http: TestClient) -> None:
    consumer = make_consumer(http)
    good = {"kind": "view", "occurred_at": _at(1), "item": "sku:1"}
    for bad in [
        {"kind": "rating", "occurred_at": _at(1), "item": "sku:1", "value": 6},
        {"kind": "teleport", "occurred_at": _at(1)},
        {"kind": "view", "occurred_at": _at(-1), "item": "sku:1"},
        {"kind": "view", "occurred_at": "2024-01-01T00:00:00", "item": "sku:1"},
        {"kind": "view", "occurred_at": _at(1), "item": "x" * 129},
        {**_purchase(1, 100), "currency": "euro"},
        {**_purchase(1, 100), "amount": 1.5},
        {**_purchase(1, 100), "items": []},
    ]:
        response = http.post("/v1/me/activity", headers=consumer.headers, json={"records": [good, bad]})
        assert response.status_code == 422, bad
        assert response.headers["content-type"] == "application/problem+json"
    too_many = http.post(
        "/v1/me/activity", headers=consumer.headers, json={"records": [good] * (MAX_BATCH + 1)}
    )
    assert too_many.status_code == 422
    assert http.get("/v1/me/activity", headers=consumer.headers).json()["items"] == []


def test_insights_derive_rfm_and_lifetime_value_with_their_sources(http: TestClient) -> None:
    consumer = make_consumer(http)
    empty = http.get("/v1/me/insights", headers=consumer.headers).json()
    assert empty["recency_days"] is None and empty["frequency"] == 0 and empty["lifetime_value"] == []
    records = [_purchase(400, 10_000), _purchase(30, 2_000), _purchase(10, 4_000), _purchase(5, 900, "USD")]
    records.append({"kind": "view", "occurred_at": _at(1), "item": "sku:2"})
    http.post("/v1/me/activity", headers=consumer.headers, json={"records": records})
    figures = http.get("/v1/me/insights", headers=consumer.headers).json()
    assert figures["recency_days"] == 5
    assert figures["recency_source"]["count"] == 4
    assert figures["frequency"] == 3  # the purchase 400 days ago is outside the 365-day window
    eur = next(m for m in figures["monetary"] if m["currency"] == "EUR")
    assert eur["amount"] == 6_000
    assert eur["source"]["kind"] == "purchases" and eur["source"]["count"] == 2
    assert eur["source"]["from"] < eur["source"]["to"]
    ltv = {m["currency"]: m["amount"] for m in figures["lifetime_value"]}
    assert ltv == {"EUR": 3_000 * 2 * 3, "USD": 900 * 1 * 3}
    assert "average order value" in figures["lifetime_value_method"]
