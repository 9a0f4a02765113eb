"""Individual privacy accounting through HTTP: each DP release that includes a customer is charged to her own
account (by supplier), she sees it at /v1/me/privacy-loss, sets her own cap, and once a release would take
her past it she is left out of every further release until the period ends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from infomediary.runtime import Runtime
from tests.fixtures.actors import Client, Consumer, make_consumer, make_supplier
from tests.fixtures.audiences import ACCOUNTED, PROFILE, audience_runtime
from tests.fixtures.consents import publish

CATEGORIES = ["demographics", "contact", "interests", "purchases"]
WOMEN = {"eq": ["gender", "female"]}
PARIS = {"eq": ["postal_prefix", "75"]}
CYCLISTS = {"eq": ["interest", "cycling"]}


@pytest.fixture
def http(runtime: Runtime) -> Iterator[TestClient]:
    with (
        audience_runtime(runtime, **ACCOUNTED) as rt,
        TestClient(create_app(runtime=rt), base_url="http://127.0.0.1:8000") as client,
    ):
        yield client


def _count(http: TestClient, supplier: Client, predicate: Any) -> int | None:
    response = http.post(
        "/v1/audiences/count",
        json={"purpose": "marketing", "predicate": predicate},
        headers=supplier.headers(http),
    )
    assert response.status_code == 200, response.text
    return response.json()["count"]


def _account(http: TestClient, consumer: Consumer) -> dict[str, Any]:
    response = http.get("/v1/me/privacy-loss", headers=consumer.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _profiled(http: TestClient, count: int) -> list[Consumer]:
    consumers = [make_consumer(http) for _ in range(count)]
    for consumer in consumers:
        assert http.patch("/v1/me/profile", json=PROFILE, headers=consumer.headers).status_code == 200
    return consumers


def _shop(http: TestClient, runtime: Runtime) -> Client:
    supplier = make_supplier(runtime)
    publish(http, supplier, ["marketing"], CATEGORIES)
    return supplier


def test_each_release_is_charged_to_whom_it_included_and_the_cap_leaves_her_out(
    http: TestClient, runtime: Runtime
) -> None:
    alice, bea, chloe = _profiled(http, 3)
    # Chloe chose a higher cap than the operator's default; Bea is not in the audiences counted below.
    assert (
        http.put("/v1/me/privacy-loss/cap", json={"epsilon": 1000}, headers=chloe.headers).status_code == 200
    )
    http.patch("/v1/me/profile", json={**PROFILE, "gender": "male"}, headers=bea.headers)
    first, second = _shop(http, runtime), _shop(http, runtime)
    assert _count(http, first, WOMEN) == 2
    assert _count(http, second, PARIS) == 3
    account = _account(http, alice)
    assert account["epsilon_spent"] == 200 and account["cap"] == 250 and not account["own_cap"]
    assert {(s["supplier_id"], s["epsilon"]) for s in account["by_supplier"]} == {
        (first.owner_id, 100.0),
        (second.owner_id, 100.0),
    }
    assert _account(http, bea)["epsilon_spent"] == 100  # only the Paris count included her
    # A third release would take Alice past her cap: she is left out of it, and is charged nothing.
    assert _count(http, first, CYCLISTS) == 2  # Bea and Chloe, not Alice
    assert _account(http, alice)["epsilon_spent"] == 200 and _account(http, alice)["cap_reached"] is False
    assert _account(http, alice)["epsilon_remaining"] == 50
    assert _account(http, chloe)["epsilon_spent"] == 300 and _account(http, chloe)["own_cap"]
    # A repeated query is the stored answer: no new release, no charge to anyone.
    assert _count(http, first, WOMEN) == 2
    assert _account(http, chloe)["epsilon_spent"] == 300


def test_a_cap_of_zero_leaves_her_out_of_everything(http: TestClient, runtime: Runtime) -> None:
    [alice, bea] = _profiled(http, 2)
    changed = http.put("/v1/me/privacy-loss/cap", json={"epsilon": 0}, headers=alice.headers)
    assert changed.status_code == 200 and changed.json()["cap"] == 0
    shop = _shop(http, runtime)
    assert _count(http, shop, WOMEN) == 1
    assert _account(http, alice)["epsilon_spent"] == 0 and _account(http, alice)["by_supplier"] == []
    assert _account(http, bea)["epsilon_spent"] == 100
    # Back to the operator's default: included again in the next release.
    http.put("/v1/me/privacy-loss/cap", json={"epsilon": None}, headers=alice.headers)
    assert _count(http, shop, PARIS) == 2


def test_a_cap_out_of_range_is_a_clear_problem_and_changes_nothing(http: TestClient) -> None:
    [alice] = _profiled(http, 1)
    too_high = http.put("/v1/me/privacy-loss/cap", json={"epsilon": 5_000}, headers=alice.headers)
    assert too_high.status_code == 422
    assert too_high.headers["content-type"].startswith("application/problem+json")
    assert too_high.json()["type"].endswith("privacy-loss-cap-out-of-range")
    negative = http.put("/v1/me/privacy-loss/cap", json={"epsilon": -1}, headers=alice.headers)
    assert negative.status_code == 422
    assert _account(http, alice)["cap"] == 250 and not _account(http, alice)["own_cap"]
    assert http.get("/v1/me/privacy-loss").status_code == 401
