"""Withdrawing or letting an offer expire refunds its unspent budget once, through the double-entry ledger."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.app import create_app
from infomediary.database import unit_of_work
from infomediary.ledger.models import LedgerPosting
from infomediary.offers import refunds
from infomediary.offers.models import OfferRow
from infomediary.runtime import Runtime
from tests.fixtures.actors import make_auditor, make_consumer, make_supplier
from tests.fixtures.offers import BODY, body, exact_offers, profiled, received_offers, sent, supplier


@pytest.fixture
def app(runtime: Runtime) -> Iterator[FastAPI]:
    with exact_offers(runtime) as exact:
        yield create_app(runtime=exact)


def _ledger(http: TestClient, headers: dict[str, str]) -> tuple[int, list[tuple[str, int]]]:
    read = http.get("/v1/supplier/ledger", headers=headers).json()
    return int(read["balance"]), [(p["kind"], p["amount"]) for p in read["postings"]]


def _ledger_sum(runtime: Runtime) -> int:
    with runtime.read_session_factory() as session:
        return int(session.scalar(select(func.coalesce(func.sum(LedgerPosting.amount), 0))) or 0)


def test_withdrawing_refunds_the_unspent_budget_once(http: TestClient, runtime: Runtime) -> None:
    [viewer, other] = profiled(http, 2)
    shop = supplier(http, runtime)
    offer = sent(http, shop)
    assert http.post(f"/v1/me/offers/{offer['id']}/view", headers=viewer.headers).status_code == 200
    headers = shop.headers(http)
    for _ in range(3):
        withdrawn = http.post(f"/v1/offers/{offer['id']}/withdraw", headers=headers)
        assert withdrawn.status_code == 200, withdrawn.text
        assert withdrawn.json()["closed"] is True and withdrawn.json()["withdrawn_at"] is not None
    balance, postings = _ledger(http, headers)
    refund = BODY["budget_cap"] - BODY["reward_per_view"]
    assert postings.count(("offer_refund", refund)) == 1
    assert balance == -BODY["reward_per_view"]
    assert _ledger_sum(runtime) == 0
    # Closed: it leaves every inbox and pays nothing more.
    assert received_offers(http, other) == []
    for action in ("view", "accept"):
        assert http.post(f"/v1/me/offers/{offer['id']}/{action}", headers=viewer.headers).status_code == 404
    assert _ledger(http, headers)[0] == balance


def test_only_the_offers_supplier_may_withdraw_it(http: TestClient, runtime: Runtime) -> None:
    profiled(http, 1)
    shop, rival = supplier(http, runtime), supplier(http, runtime)
    offer = sent(http, shop)
    path = f"/v1/offers/{offer['id']}/withdraw"
    assert http.post(path).status_code == 401
    assert http.post(path, headers=make_consumer(http).headers).status_code == 401
    assert http.post(path, headers=make_auditor(runtime).headers(http)).status_code == 403
    unscoped = make_supplier(runtime, scopes=["audiences:read"])
    assert http.post(path, headers=unscoped.headers(http)).status_code == 403
    refused = http.post(path, headers=rival.headers(http))
    assert refused.status_code == 404
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert http.post("/v1/offers/off_missing/withdraw", headers=rival.headers(http)).status_code == 404
    # Nothing moved: the offer is still open and its budget still held.
    assert _ledger(http, shop.headers(http))[0] == -BODY["budget_cap"]
    assert _ledger(http, rival.headers(http))[0] == 0
    assert http.get(f"/v1/offers/{offer['id']}", headers=shop.headers(http)).json()["closed"] is False


def test_an_expired_offer_is_refunded_once_by_settling_and_reading(
    http: TestClient, runtime: Runtime
) -> None:
    [viewer] = profiled(http, 1)
    shop = supplier(http, runtime)
    offer = sent(http, shop, body(reward_per_view=7))
    assert http.post(f"/v1/me/offers/{offer['id']}/view", headers=viewer.headers).status_code == 200
    with runtime.read_session_factory() as session:
        expires_at = session.get_one(OfferRow, offer["id"]).expires_at
    after = expires_at + timedelta(seconds=1)
    for _ in range(2):
        with unit_of_work(runtime.session_factory) as session:
            refunds.settle_expired(session, now=after)
    read = http.get(f"/v1/offers/{offer['id']}", headers=shop.headers(http))
    assert read.status_code == 200 and read.json()["closed"] is True
    balance, postings = _ledger(http, shop.headers(http))
    assert postings.count(("offer_refund", BODY["budget_cap"] - 7)) == 1
    assert len([p for p in postings if p[0] == "offer_refund"]) == 1
    assert balance == -7 and _ledger_sum(runtime) == 0


def test_customers_actions_move_nothing_of_the_suppliers_until_one_aggregate_refund_at_close(
    http: TestClient, runtime: Runtime
) -> None:
    """While the offer runs, views and acceptances are paid from the broker's escrow: the supplier's ledger
    shows only the budget it paid; closing settles the unspent rest in one entry."""
    customers = profiled(http, 3)
    shop = supplier(http, runtime)
    headers = shop.headers(http)
    offer = sent(http, shop)
    at_send = _ledger(http, headers)
    assert at_send == (-BODY["budget_cap"], [("offer_budget", -BODY["budget_cap"])])
    for customer in customers:
        assert http.post(f"/v1/me/offers/{offer['id']}/view", headers=customer.headers).status_code == 200
    accepted = http.post(f"/v1/me/offers/{offer['id']}/accept", headers=customers[0].headers, json={})
    assert accepted.status_code == 200
    assert http.get(f"/v1/offers/{offer['id']}", headers=headers).json()["closed"] is False
    assert _ledger(http, headers) == at_send
    assert http.post(f"/v1/offers/{offer['id']}/withdraw", headers=headers).status_code == 200
    spent = 3 * BODY["reward_per_view"] + BODY["reward_per_acceptance"]
    balance, postings = _ledger(http, headers)
    assert postings == [("offer_refund", BODY["budget_cap"] - spent), ("offer_budget", -BODY["budget_cap"])]
    assert balance == -spent and _ledger_sum(runtime) == 0
