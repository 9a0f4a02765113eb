"""Recommendation services on a real database: audience top items are suppressed like audience counts, are
a DP selection above a noisy threshold and name only the supplier's own items; a cold start gets the
popular items of the customer's consented segments before the global ones."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import TypeAdapter

from consent.vocabulary import Category, Purpose
from infomediary.audiences.predicate import Eq
from infomediary.database import unit_of_work
from infomediary.flows import policy_published, supplier_registered
from infomediary.products import service as products
from infomediary.profiles import activity
from infomediary.profiles.records import ActivityIn
from infomediary.recommendations import audience, service, training
from infomediary.runtime import Runtime
from tests.fixtures.audiences import audience_runtime, indexed_customers

RECORD = TypeAdapter[Any](ActivityIn)
CATEGORIES = [
    Category.ACTIVITY,
    Category.PURCHASES,
    Category.DEMOGRAPHICS,
    Category.INTERESTS,
    Category.CONTACT,
]


def _shop(runtime: Runtime, prefix: str) -> str:
    with unit_of_work(runtime.session_factory) as session:
        view, _ = supplier_registered.register_supplier(
            session, name=f"Shop {secrets.token_hex(3)}", scopes=["recommendations:read"]
        )
        policy_published.publish_policy(
            session,
            runtime,
            view.id,
            purposes=[Purpose.PERSONALISATION],
            categories=CATEGORIES,
            policy_url=None,
        )
        rows = [
            {"id": f"{prefix}:{i}", "title": f"{prefix} {i}", "price": 100, "currency": "EUR"}
            for i in range(10)
        ]
        products.replace(session, runtime, view.id, rows)
    return view.id


def _view(runtime: Runtime, customer_id: str, items: list[str]) -> None:
    at = datetime.now(UTC) - timedelta(days=1)
    records = [RECORD.validate_python({"kind": "view", "item": i, "occurred_at": at}) for i in items]
    with unit_of_work(runtime.session_factory) as session:
        activity.record(session, runtime, customer_id, records)


def test_audience_items_are_suppressed_under_the_minimum_cohort(runtime: Runtime) -> None:
    shop = _shop(runtime, "sku")
    for customer_id in indexed_customers(runtime, 5, gender="female"):
        _view(runtime, customer_id, ["sku:1", "sku:2"])
    with unit_of_work(runtime.session_factory) as session:
        found = audience.top_items(session, runtime, shop, Eq(eq=("gender", "female")), 5)
    assert found.suppressed and found.items == [] and found.audience_count is None


def test_audience_items_are_own_catalog_items_above_the_noisy_threshold(runtime: Runtime) -> None:
    shop = _shop(runtime, "sku")
    _shop(runtime, "riv")
    customers = indexed_customers(runtime, 6, gender="female")
    for n, customer_id in enumerate(customers):
        _view(runtime, customer_id, ["sku:1", "riv:1", *(["sku:2"] if n < 2 else [])])
    settings = {
        "audience_min_cohort": 0,
        "audience_epsilon": 100.0,
        "audience_epsilon_budget": 100_000.0,
        "recommend_min_item_customers": 3,
        # Negligible noise: the DP selection ranks as the bounded scores do.
        "recommend_audience_epsilon": 100.0,
    }
    with audience_runtime(runtime, **settings) as exact, unit_of_work(exact.session_factory) as session:
        found = audience.top_items(session, exact, shop, Eq(eq=("gender", "female")), 5)
    # sku:2 was reached by 2 customers only: under the noisy threshold of 3, so it is left out; riv:1 is
    # another supplier's item, never a candidate.
    assert not found.suppressed and [i.id for i in found.items] == ["sku:1"]


def test_a_cold_start_gets_its_segments_popular_items_first(runtime: Runtime) -> None:
    shop = _shop(runtime, "sku")
    older = indexed_customers(runtime, 3, birth_date="1975-01-01")
    younger = indexed_customers(runtime, 6, birth_date="2000-01-01")
    for customer_id in older:
        _view(runtime, customer_id, ["sku:7"])
    for customer_id in younger:
        _view(runtime, customer_id, ["sku:3"])
    (newcomer,) = indexed_customers(runtime, 1, birth_date="1975-06-01")
    with audience_runtime(runtime, recommend_min_segment=2) as segmented:
        with unit_of_work(segmented.session_factory) as session:
            training.train(session, segmented, shop, threads=1)
        with unit_of_work(segmented.session_factory) as session:
            found = service.for_customer(session, segmented, shop, newcomer, 3)
    assert [i.id for i in found.items][:2] == ["sku:7", "sku:3"]
    assert all(i.source == "popular" for i in found.items)
