"""Reports of unwanted offers: a few customers cannot strike (let alone suspend) a supplier, however often
they report; an offer reported by a real share of its audience still earns a strike; a customer reporting in
bulk is rate limited with 429 and Retry-After, and the refused report changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from infomediary.offers.reports import OFFER_REPORT_REASON, SUPPLIER_REPORT_REASON
from infomediary.runtime import Runtime
from infomediary.sanctions.models import SupplierSanction
from tests.conftest import ISSUER
from tests.fixtures.actors import Client, Consumer
from tests.fixtures.offers import exact_offers, profiled, received_offers, sent, supplier


def _client(runtime: Runtime, **settings: Any) -> Iterator[TestClient]:
    with (
        exact_offers(runtime, **settings) as rt,
        TestClient(create_app(runtime=rt), base_url=ISSUER) as client,
    ):
        yield client


def _report(http: TestClient, consumer: Consumer, offer: dict[str, Any]) -> int:
    return http.post(f"/v1/me/offers/{offer['id']}/report", headers=consumer.headers).status_code


def _supplier_status(http: TestClient, shop: Client) -> tuple[int, str]:
    me = http.get("/v1/supplier", headers=shop.headers(http)).json()
    return int(me["strikes"]), str(me["status"])


def _reasons(runtime: Runtime, supplier_id: str) -> list[str]:
    with runtime.read_session_factory() as session:
        return list(
            session.scalars(
                select(SupplierSanction.reason).where(SupplierSanction.supplier_id == supplier_id)
            )
        )


@pytest.fixture
def defaults(runtime: Runtime) -> Iterator[TestClient]:
    """Default report thresholds; a rate limit wide enough for the bulk reporting below."""
    yield from _client(runtime, report_rate_limit=50)


def test_five_customers_reporting_every_offer_cannot_strike_the_supplier(
    defaults: TestClient, runtime: Runtime
) -> None:
    http = defaults
    customers = profiled(http, 5)
    shop = supplier(http, runtime)
    offers = [sent(http, shop) for _ in range(6)]
    for customer in customers:
        for offer in offers:
            assert _report(http, customer, offer) == 204
    # Thirty reports from five customers: no strike, let alone a suspension; the supplier still works.
    assert _supplier_status(http, shop) == (0, "active")
    assert _reasons(runtime, shop.owner_id) == []


def test_an_offer_reported_by_many_of_its_audience_earns_one_strike(
    defaults: TestClient, runtime: Runtime
) -> None:
    http = defaults
    needed = runtime.settings.offer_report_min_reporters
    customers = profiled(http, needed + 2)
    shop = supplier(http, runtime)
    spam = sent(http, shop)
    for customer in customers[: needed - 1]:
        assert _report(http, customer, spam) == 204
    assert _supplier_status(http, shop)[0] == 0
    assert _report(http, customers[needed - 1], spam) == 204
    assert _supplier_status(http, shop) == (1, "warned")
    # The same offer is struck once, whatever further reports come in.
    for customer in customers[needed:]:
        assert _report(http, customer, spam) == 204
    assert _supplier_status(http, shop)[0] == 1
    assert _reasons(runtime, shop.owner_id) == [OFFER_REPORT_REASON]


def test_distinct_reporters_across_a_suppliers_offers_strike_once_per_window(runtime: Runtime) -> None:
    # Each customer reports a different offer, so no single offer reaches its threshold.
    for http in _client(runtime, offer_report_min_reporters=100, supplier_report_min_reporters=4):
        customers = profiled(http, 6)
        shop = supplier(http, runtime)
        offers = [sent(http, shop) for _ in customers]
        for customer, offer in zip(customers[:3], offers, strict=False):
            assert _report(http, customer, offer) == 204
        assert _supplier_status(http, shop)[0] == 0
        for customer, offer in zip(customers[3:], offers[3:], strict=True):
            assert _report(http, customer, offer) == 204
        assert _supplier_status(http, shop)[0] == 1
        assert _reasons(runtime, shop.owner_id) == [SUPPLIER_REPORT_REASON]


def test_a_customer_reporting_in_bulk_is_rate_limited(runtime: Runtime) -> None:
    for http in _client(runtime, report_rate_limit=2, report_rate_window_seconds=3600):
        [customer] = profiled(http, 1)
        shop = supplier(http, runtime)
        offers = [sent(http, shop) for _ in range(3)]
        assert [_report(http, customer, o) for o in offers[:2]] == [204, 204]
        refused = http.post(f"/v1/me/offers/{offers[2]['id']}/report", headers=customer.headers)
        assert refused.status_code == 429
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert 0 < int(refused.headers["Retry-After"]) <= 3600
        assert refused.json()["retry_after"] == int(refused.headers["Retry-After"])
        # The refused report changed nothing: the offer is still in the inbox and can be viewed.
        assert offers[2]["id"] in [o["id"] for o in received_offers(http, customer)]
        assert http.post(f"/v1/me/offers/{offers[2]['id']}/view", headers=customer.headers).status_code == 200
