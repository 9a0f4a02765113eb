"""Customers who consent, or enter an offer's audience, after it was sent see it at their next inbox read:
decided again by the decision point and logged, only while the offer is open and its budget can pay."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from infomediary.runtime import Runtime
from tests.fixtures.consents import grant
from tests.fixtures.offers import body, exact_offers, profiled, received_offers, sent, supplier


@pytest.fixture
def app(runtime: Runtime) -> Iterator[FastAPI]:
    with exact_offers(runtime) as exact:
        yield create_app(runtime=exact)


def _decisions(http: TestClient, headers: dict[str, str], supplier_id: str) -> int:
    entries = http.get("/v1/me/log", headers=headers).json()["entries"]
    return sum(1 for e in entries if e["kind"] == "decision" and e["supplier_id"] == supplier_id)


def test_a_customer_who_consents_after_sending_sees_the_offer(http: TestClient, runtime: Runtime) -> None:
    [late] = profiled(http, 1)
    shop = supplier(http, runtime)
    refused = grant(http, late, shop.owner_id, "marketing", "demographics", decision="refuse")
    assert refused.status_code in (200, 201), refused.text
    offer = sent(http, shop)
    assert received_offers(http, late) == []
    before = _decisions(http, late.headers, shop.owner_id)
    granted = grant(http, late, shop.owner_id, "marketing", "demographics")
    assert granted.status_code in (200, 201), granted.text
    assert [o["id"] for o in received_offers(http, late)] == [offer["id"]]
    # Decided by the decision point and in the customer's log, once: a second read matches nothing new.
    assert _decisions(http, late.headers, shop.owner_id) == before + 1
    assert [o["id"] for o in received_offers(http, late)] == [offer["id"]]
    assert _decisions(http, late.headers, shop.owner_id) == before + 1
    viewed = http.post(f"/v1/me/offers/{offer['id']}/view", headers=late.headers)
    assert viewed.status_code == 200 and viewed.json()["state"] == "viewed"


def test_a_customer_whose_profile_enters_the_audience_sees_the_offer(
    http: TestClient, runtime: Runtime
) -> None:
    [mover] = profiled(http, 1, gender="male")
    shop = supplier(http, runtime)
    offer = sent(http, shop)
    assert received_offers(http, mover) == []
    assert http.patch("/v1/me/profile", json={"gender": "female"}, headers=mover.headers).status_code == 200
    assert [o["id"] for o in received_offers(http, mover)] == [offer["id"]]
    read = http.get(f"/v1/offers/{offer['id']}", headers=shop.headers(http)).json()
    assert read["stats"]["delivered"] is None  # one customer: below the minimum cohort


def test_late_matching_respects_consent_budget_withdrawal_and_dismissal(
    http: TestClient, runtime: Runtime
) -> None:
    [first] = profiled(http, 1)
    shop = supplier(http, runtime)
    capped = sent(http, shop, body(reward_per_view=3, reward_per_acceptance=3, budget_cap=5))
    withdrawn = sent(http, shop)
    dismissed = sent(http, shop)
    assert http.post(f"/v1/offers/{withdrawn['id']}/withdraw", headers=shop.headers(http)).status_code == 200
    assert http.post(f"/v1/me/offers/{capped['id']}/view", headers=first.headers).status_code == 200
    assert http.post(f"/v1/me/offers/{dismissed['id']}/dismiss", headers=first.headers).status_code == 204
    # Dismissed stays dismissed: the delivery row exists, so it is not matched again.
    assert all(o["id"] != dismissed["id"] for o in received_offers(http, first))
    [newcomer, refuser] = profiled(http, 2)
    refused = grant(http, refuser, shop.owner_id, "marketing", "demographics", decision="refuse")
    assert refused.status_code in (200, 201), refused.text
    # The capped offer cannot pay another reward, the withdrawn one is closed: neither reaches a newcomer.
    assert [o["id"] for o in received_offers(http, newcomer)] == [dismissed["id"]]
    assert received_offers(http, refuser) == []
