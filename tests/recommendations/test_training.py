"""Training on consented data only: customers who withdraw personalisation leave no trace in the model
(retrain and compare against changing their data), every decision is logged, and no user factors or
interaction matrix are stored."""

from __future__ import annotations

import io
import json
import random
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from pydantic import TypeAdapter
from sqlalchemy import func, select

from consent.records import ConsentState
from consent.vocabulary import Category, Purpose
from infomediary.database import unit_of_work
from infomediary.flows import consent_changed, policy_published, supplier_registered
from infomediary.policylog.models import PolicyLogEntry
from infomediary.products import service as products
from infomediary.profiles import activity
from infomediary.profiles.records import ActivityIn
from infomediary.recommendations import store, training
from infomediary.recommendations.models import RecommenderModelRow
from infomediary.runtime import Runtime
from tests.fixtures.population import make_customers

RECORD = TypeAdapter[Any](ActivityIn)
ITEMS = 30


def _shop(runtime: Runtime) -> str:
    with unit_of_work(runtime.session_factory) as session:
        view, _ = supplier_registered.register_supplier(
            session, name=f"Shop {secrets.token_hex(3)}", scopes=["catalog:write"]
        )
        policy_published.publish_policy(
            session,
            runtime,
            view.id,
            purposes=[Purpose.PERSONALISATION],
            categories=[Category.ACTIVITY, Category.PURCHASES],
            policy_url=None,
        )
        rows = [
            {"id": f"sku:{i}", "title": f"Item {i}", "categories": ["c"], "price": 100, "currency": "EUR"}
            for i in range(ITEMS)
        ]
        products.replace(session, runtime, view.id, rows)
    return view.id


def _view_items(runtime: Runtime, customer_id: str, items: list[int]) -> None:
    at = datetime.now(UTC) - timedelta(days=2)
    records = [RECORD.validate_python({"kind": "view", "item": f"sku:{i}", "occurred_at": at}) for i in items]
    with unit_of_work(runtime.session_factory) as session:
        activity.record(session, runtime, customer_id, records)


def _snapshot(runtime: Runtime, supplier_id: str) -> tuple[np.ndarray, np.ndarray, Any]:
    with unit_of_work(runtime.session_factory) as session:
        training.train(session, runtime, supplier_id, threads=1)
        models = store.load(session, supplier_id)
        assert models is not None and models.als is not None and models.item_item is not None
        return (
            np.array(models.als.item_factors),
            models.item_item.similarity.toarray(),
            (models.popular, models.segments, models.meta["customers"]),
        )


def test_withdrawn_customers_do_not_influence_the_model(runtime: Runtime) -> None:
    supplier_id = _shop(runtime)
    customers = sorted(make_customers(runtime, 24))
    rng = random.Random(3)
    for customer_id in customers:
        _view_items(runtime, customer_id, rng.sample(range(ITEMS), 6))
    everyone = _snapshot(runtime, supplier_id)

    leaving = customers[::2]
    with unit_of_work(runtime.session_factory) as session:
        for customer_id in leaving:
            consent_changed.answer(
                session,
                runtime,
                customer_id,
                state=ConsentState.REFUSED,
                supplier_id=supplier_id,
                purpose=Purpose.PERSONALISATION,
                categories=[None],
            )
    without = _snapshot(runtime, supplier_id)
    assert without[2][2] == len(customers) - len(leaving)
    assert not np.array_equal(everyone[1], without[1])

    # The leavers now do very different things: the retrained model must not move at all.
    for customer_id in leaving:
        _view_items(runtime, customer_id, list(range(ITEMS // 2)) * 2)
    again = _snapshot(runtime, supplier_id)
    assert np.array_equal(without[0], again[0])
    assert np.array_equal(without[1], again[1])
    assert without[2] == again[2]


def test_every_training_decision_is_logged_and_no_user_data_is_stored(runtime: Runtime) -> None:
    supplier_id = _shop(runtime)
    customers = sorted(make_customers(runtime, 6))
    for customer_id in customers:
        _view_items(runtime, customer_id, [1, 2, 3])
    with unit_of_work(runtime.session_factory) as session:
        before = session.scalar(select(func.count()).select_from(PolicyLogEntry)) or 0
        report = training.train(session, runtime, supplier_id, threads=1)
        after = session.scalar(select(func.count()).select_from(PolicyLogEntry)) or 0
        rows = {r.kind: r for r in session.scalars(select(RecommenderModelRow))}
    assert report.customers == 6
    # One decision per customer per interaction category (activity, purchases).
    assert after - before == 2 * len(customers)
    factors = np.load(io.BytesIO(rows[store.ALS].payload), allow_pickle=False)
    assert factors.shape[0] == ITEMS
    for row in rows.values():
        text = row.items + row.meta + (row.payload.decode() if row.kind == store.POPULARITY else "")
        assert not any(customer_id in text for customer_id in customers)
    assert set(json.loads(rows[store.POPULARITY].payload)) == {"popular", "segments"}
