"""Offers through HTTP as each caller: credentials per route, matching gated by consent (and withdrawal in
force on the next request), thresholded stats without ids, identity only after a confirmed acceptance and
only to that supplier, the discount rule shown to customers, rewards paid once within the budget cap, and
reports recorded once per customer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from infomediary.database import unit_of_work
from infomediary.ledger import service as ledger
from infomediary.runtime import Runtime
from tests.fixtures.actors import make_auditor, make_consumer, make_supplier
from tests.fixtures.consents import grant, later, pseudonym_for, publish
from tests.fixtures.offers import (
    BODY,
    exact_offers,
    offer_reads_later,
    received_offers,
)
from tests.fixtures.offers import balance as _balance
from tests.fixtures.offers import body as _body
from tests.fixtures.offers import profiled as _profiled
from tests.fixtures.offers import send as _send
from tests.fixtures.offers import sent as _sent
from tests.fixtures.offers import supplier as _supplier


@pytest.fixture
def app(runtime: Runtime) -> Iterator[FastAPI]:
    """These tests read offer statistics exactly: negligible noise and an ample budget."""
    with exact_offers(runtime) as exact:
        yield create_app(runtime=exact)


def test_supplier_routes_need_a_supplier_with_the_scope(http: TestClient, runtime: Runtime) -> None:
    for method, path in (("post", "/v1/offers"), ("get", "/v1/offers/off_x")):
        assert http.request(method, path, json=_body()).status_code == 401
        consumer = make_consumer(http)
        assert http.request(method, path, json=_body(), headers=consumer.headers).status_code == 401
        auditor = make_auditor(runtime)
        assert http.request(method, path, json=_body(), headers=auditor.headers(http)).status_code == 403
        unscoped = make_supplier(runtime, scopes=["audiences:read"])
        assert http.request(method, path, json=_body(), headers=unscoped.headers(http)).status_code == 403


def test_consumer_routes_need_a_consumer(http: TestClient, runtime: Runtime) -> None:
    supplier = _supplier(http, runtime)
    assert http.get("/v1/me/offers").status_code == 401
    assert http.get("/v1/me/offers", headers=supplier.headers(http)).status_code == 401
    for action in ("view", "accept", "dismiss", "report"):
        assert http.post(f"/v1/me/offers/off_x/{action}").status_code == 401


def test_an_offer_needs_an_idempotency_key_and_a_repeat_returns_the_same_offer(
    http: TestClient, runtime: Runtime
) -> None:
    _profiled(http, 1)
    supplier = _supplier(http, runtime)
    missing = http.post("/v1/offers", json=_body(), headers=supplier.headers(http))
    assert missing.status_code == 400
    assert missing.headers["content-type"].startswith("application/problem+json")
    headers = {**supplier.headers(http), "Idempotency-Key": "spring-1"}
    body = _body()
    first = http.post("/v1/offers", json=body, headers=headers)
    again = http.post("/v1/offers", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    other = http.post("/v1/offers", json={**body, "content": "Another offer"}, headers=headers)
    assert other.status_code == 409


def test_invalid_offers_are_refused(http: TestClient, runtime: Runtime) -> None:
    supplier = _supplier(http, runtime)
    for bad in (
        _body(predicate={"eq": ["shoe_size", "42"]}),
        _body(rule={"min_order_amount": 5000, "currency": "EUR", "discount_percent": 0}),
        _body(content=""),
        _body(expires_at="2020-01-01T00:00:00Z"),
    ):
        assert _send(http, supplier, bad).status_code == 422, bad


def test_stats_are_thresholded_and_carry_no_ids(
    http: TestClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    k = runtime.settings.offer_min_cohort
    consumers = _profiled(http, k)
    _profiled(http, 2, gender="male")
    supplier = _supplier(http, runtime)
    sent = _sent(http, supplier)
    assert sent["stats"] == {"delivered": k, "viewed": None, "accepted": None, "minimum_cohort": k}
    few = _sent(http, supplier, _body(predicate={"eq": ["gender", "male"]}))
    assert few["stats"]["delivered"] is None
    for consumer in consumers:
        assert http.post(f"/v1/me/offers/{sent['id']}/view", headers=consumer.headers).status_code == 200
    # The views show at the next scheduled draw.
    offer_reads_later(monkeypatch, runtime.settings.offer_stats_interval_seconds)
    read = http.get(f"/v1/offers/{sent['id']}", headers=supplier.headers(http))
    assert read.status_code == 200
    assert read.json()["stats"]["viewed"] == k and read.json()["released_identities"] == []
    for consumer in consumers:
        assert consumer.id not in read.text and consumer.email not in read.text
        assert pseudonym_for(http, consumer, supplier) not in read.text


def test_another_suppliers_or_customers_offer_is_not_found(http: TestClient, runtime: Runtime) -> None:
    [mine] = _profiled(http, 1)
    [theirs] = _profiled(http, 1, gender="male")
    supplier, other = _supplier(http, runtime), _supplier(http, runtime)
    sent = _sent(http, supplier)
    assert http.get(f"/v1/offers/{sent['id']}", headers=other.headers(http)).status_code == 404
    assert [o["id"] for o in received_offers(http, mine)] == [sent["id"]]
    assert received_offers(http, theirs) == []
    for action in ("view", "accept", "dismiss", "report"):
        response = http.post(f"/v1/me/offers/{sent['id']}/{action}", headers=theirs.headers)
        assert response.status_code == 404, action


def test_the_discount_rule_is_shown_to_the_customer(http: TestClient, runtime: Runtime) -> None:
    [consumer] = _profiled(http, 1)
    sent = _sent(http, _supplier(http, runtime))
    [item] = received_offers(http, consumer)
    assert item["id"] == sent["id"] and item["content"] == BODY["content"]
    assert item["rule"] == {
        "min_order_amount": 5000,
        "currency": "EUR",
        "discount_percent": 10,
        "summary": "An order over 50.00 EUR earns 10% off",
    }


def test_a_withdrawn_customer_vanishes_from_the_inbox_and_from_matching(
    http: TestClient, runtime: Runtime
) -> None:
    [leaver, stayer] = _profiled(http, 2)
    supplier = _supplier(http, runtime)
    granted = grant(http, leaver, supplier.owner_id, "marketing", "demographics")
    assert granted.status_code in (200, 201), granted.text
    sent = _sent(http, supplier)
    assert [o["id"] for o in received_offers(http, leaver)] == [sent["id"]]
    record_id = granted.json()["consent"]["id"]
    assert http.post(f"/v1/me/consents/{record_id}/withdraw", headers=leaver.headers).status_code == 200
    assert received_offers(http, leaver) == []
    assert http.post(f"/v1/me/offers/{sent['id']}/view", headers=leaver.headers).status_code == 404
    later_offer = _sent(http, supplier)
    assert [o["id"] for o in received_offers(http, leaver)] == []
    assert {o["id"] for o in received_offers(http, stayer)} == {sent["id"], later_offer["id"]}


def test_a_view_is_paid_once(http: TestClient, runtime: Runtime) -> None:
    [consumer] = _profiled(http, 1)
    sent = _sent(http, _supplier(http, runtime))
    for _ in range(3):
        viewed = http.post(f"/v1/me/offers/{sent['id']}/view", headers=consumer.headers)
        assert viewed.status_code == 200 and viewed.json()["state"] == "viewed"
    assert _balance(http, consumer) == BODY["reward_per_view"]
    accepted = http.post(f"/v1/me/offers/{sent['id']}/accept", headers=consumer.headers, json={})
    assert accepted.status_code == 200 and accepted.json()["state"] == "accepted"
    assert http.post(f"/v1/me/offers/{sent['id']}/accept", headers=consumer.headers).status_code == 200
    assert _balance(http, consumer) == BODY["reward_per_view"] + BODY["reward_per_acceptance"]


def test_the_budget_cap_stops_rewards_and_hides_the_offer(http: TestClient, runtime: Runtime) -> None:
    first, second = _profiled(http, 2)
    sent = _sent(
        http, _supplier(http, runtime), _body(reward_per_view=3, reward_per_acceptance=3, budget_cap=5)
    )
    assert http.post(f"/v1/me/offers/{sent['id']}/view", headers=first.headers).status_code == 200
    # 3 of 5 spent: another reward of 3 would pass the cap.
    assert received_offers(http, second) == []
    assert http.post(f"/v1/me/offers/{sent['id']}/view", headers=second.headers).status_code == 404
    assert _balance(http, first) == 3 and _balance(http, second) == 0


def test_dismiss_removes_the_offer(http: TestClient, runtime: Runtime) -> None:
    [consumer] = _profiled(http, 1)
    sent = _sent(http, _supplier(http, runtime))
    assert http.post(f"/v1/me/offers/{sent['id']}/dismiss", headers=consumer.headers).status_code == 204
    assert received_offers(http, consumer) == []
    assert http.post(f"/v1/me/offers/{sent['id']}/view", headers=consumer.headers).status_code == 404


def test_a_report_removes_the_offer_once_and_alone_is_no_strike(http: TestClient, runtime: Runtime) -> None:
    [consumer] = _profiled(http, 1)
    supplier = _supplier(http, runtime)
    sent = _sent(http, supplier)
    assert http.post(f"/v1/me/offers/{sent['id']}/report", headers=consumer.headers).status_code == 204
    assert received_offers(http, consumer) == []
    # One report per customer and offer: reporting again finds nothing to report.
    assert http.post(f"/v1/me/offers/{sent['id']}/report", headers=consumer.headers).status_code == 404
    # One customer's report is not a strike (tests/api/test_offer_reports.py has the thresholds).
    assert http.get("/v1/supplier", headers=supplier.headers(http)).json()["strikes"] == 0


@pytest.mark.parametrize("body", [None, {}, {"release_identity": False}])
def test_an_identity_release_needs_confirmation(
    http: TestClient, runtime: Runtime, body: dict[str, Any] | None
) -> None:
    [consumer] = _profiled(http, 1)
    supplier = _supplier(http, runtime)
    sent = _sent(http, supplier, _body(releases_identity=True))
    refused = http.post(f"/v1/me/offers/{sent['id']}/accept", headers=consumer.headers, json=body)
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert _balance(http, consumer) == 0
    read = http.get(f"/v1/offers/{sent['id']}", headers=supplier.headers(http))
    assert read.json()["released_identities"] == [] and "Zelda" not in read.text


def test_identity_reaches_only_the_supplier_it_was_released_to(http: TestClient, runtime: Runtime) -> None:
    [consumer] = _profiled(http, 1)
    supplier, other = _supplier(http, runtime), _supplier(http, runtime)
    mine = _sent(http, supplier, _body(releases_identity=True))
    theirs = _sent(http, other, _body(releases_identity=True))
    before = http.get(f"/v1/offers/{mine['id']}", headers=supplier.headers(http))
    assert "Zelda" not in before.text and consumer.email not in before.text
    accepted = http.post(
        f"/v1/me/offers/{mine['id']}/accept",
        headers=consumer.headers,
        json={"release_identity": True, "password": consumer.password},
    )
    assert accepted.status_code == 200, accepted.text
    read = http.get(f"/v1/offers/{mine['id']}", headers=supplier.headers(http))
    # Issue 20: the supplier is handed her relay address for it, never her own address.
    [alias] = http.get("/v1/me/aliases", headers=consumer.headers).json()["aliases"]
    assert alias["supplier_id"] == supplier.owner_id
    assert read.json()["released_identities"] == [
        {
            "pseudonym": pseudonym_for(http, consumer, supplier),
            "given_name": "Zelda",
            "family_name": "Quist",
            "email": alias["address"],
        }
    ]
    assert alias["address"].endswith("@" + runtime.settings.relay_domain)
    assert consumer.email not in read.text
    for response in (
        http.get(f"/v1/offers/{theirs['id']}", headers=other.headers(http)),
        http.get(f"/v1/offers/{mine['id']}", headers=other.headers(http)),
    ):
        assert "Zelda" not in response.text and "Quist" not in response.text
        assert consumer.email not in response.text


def test_an_identity_release_is_recorded_as_the_pseudonym_handed_over(
    http: TestClient, runtime: Runtime
) -> None:
    """Issue 19: after releasing her identity through an offer, her "who knows me" lists the supplier, and
    the pseudonym it received resolves for the supplier's requests and for an auditor's penalty."""
    [consumer] = _profiled(http, 1)
    supplier = _supplier(http, runtime)
    offer = _sent(http, supplier, _body(releases_identity=True))
    assert http.get("/v1/me/pseudonyms", headers=consumer.headers).json()["pseudonyms"] == []
    accepted = http.post(
        f"/v1/me/offers/{offer['id']}/accept",
        headers=consumer.headers,
        json={"release_identity": True, "password": consumer.password},
    )
    assert accepted.status_code == 200, accepted.text
    [released] = http.get(f"/v1/offers/{offer['id']}", headers=supplier.headers(http)).json()[
        "released_identities"
    ]
    [listed] = http.get("/v1/me/pseudonyms", headers=consumer.headers).json()["pseudonyms"]
    assert (listed["supplier_id"], listed["pseudonym"]) == (supplier.owner_id, released["pseudonym"])
    publish(http, supplier, ["marketing"], ["demographics", "identity", "contact", "interests"])
    request = {
        "pseudonym": released["pseudonym"],
        "purpose": "marketing",
        "categories": ["demographics"],
        "expires_at": later(),
    }
    asked = http.post("/v1/requests", json=request, headers=supplier.headers(http))
    assert asked.status_code == 201, asked.text
    auditor = make_auditor(runtime)
    with unit_of_work(runtime.session_factory) as session:
        ledger.top_up(session, supplier_id=supplier.owner_id, amount=1_000, idempotency_key="fund")
    penalty = {
        "supplier_id": supplier.owner_id,
        "kind": "penalty",
        "reason": "kept her identity after she withdrew",
        "amount_per_customer": 100,
        "affected": [released["pseudonym"]],
    }
    named = http.post(
        "/v1/audit/sanctions", json=penalty, headers={**auditor.headers(http), "Idempotency-Key": "p-1"}
    )
    assert named.status_code == 201, named.text


def test_an_identity_releasing_offer_needs_identity_in_the_policy(http: TestClient, runtime: Runtime) -> None:
    supplier = make_supplier(runtime)
    publish(http, supplier, ["marketing"], ["demographics"])
    assert _send(http, supplier, _body(releases_identity=True)).status_code == 422


def test_an_offer_beyond_the_credit_line_is_refused_and_nothing_changes(
    http: TestClient, runtime: Runtime
) -> None:
    [consumer] = _profiled(http, 1)
    supplier = _supplier(http, runtime)
    refused = _send(http, supplier, _body(budget_cap=runtime.settings.supplier_credit_line + 1))
    assert refused.status_code == 402
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert received_offers(http, consumer) == []
    assert http.get("/v1/supplier/ledger", headers=supplier.headers(http)).json()["balance"] == 0


def test_the_budget_is_paid_when_sent_so_the_suppliers_ledger_does_not_count_views(
    http: TestClient, runtime: Runtime
) -> None:
    consumers = _profiled(http, 2)
    supplier = _supplier(http, runtime)
    sent = _sent(http, supplier)
    assert "spent" not in sent
    for consumer in consumers:
        assert http.post(f"/v1/me/offers/{sent['id']}/view", headers=consumer.headers).status_code == 200
    ledger = http.get("/v1/supplier/ledger", headers=supplier.headers(http)).json()
    assert ledger["balance"] == -BODY["budget_cap"]
    assert [(p["kind"], p["amount"]) for p in ledger["postings"]] == [("offer_budget", -BODY["budget_cap"])]
    assert all(_balance(http, c) == BODY["reward_per_view"] for c in consumers)


def test_a_withdrawn_identity_grant_leaves_the_next_supplier_response(
    http: TestClient, runtime: Runtime
) -> None:
    [consumer] = _profiled(http, 1)
    supplier = _supplier(http, runtime)
    sent = _sent(http, supplier, _body(releases_identity=True))
    accepted = http.post(
        f"/v1/me/offers/{sent['id']}/accept",
        headers=consumer.headers,
        json={"release_identity": True, "password": consumer.password},
    )
    assert accepted.status_code == 200, accepted.text
    assert "Zelda" in http.get(f"/v1/offers/{sent['id']}", headers=supplier.headers(http)).text
    records = http.get("/v1/me/consents", headers=consumer.headers).json()["items"]
    identity = [r["id"] for r in records if r["category"] and r["category"]["key"] == "identity"]
    assert len(identity) == 1
    withdrawn = http.post(f"/v1/me/consents/{identity[0]}/withdraw", headers=consumer.headers)
    assert withdrawn.status_code == 200, withdrawn.text
    read = http.get(f"/v1/offers/{sent['id']}", headers=supplier.headers(http))
    assert read.json()["released_identities"] == [] and "Zelda" not in read.text
