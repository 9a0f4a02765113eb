"""Top items for an audience: thresholded like an audience count, never a customer.

The audience is counted by `audiences.service.count_audience` (noise, minimum cohort, epsilon budget,
cache, release entry): a suppressed count answers no items. Otherwise the broker reads the consented
interactions of (at most `recommend_audience_max_customers` of) the matching customers who permit
personalisation, and ranks items by how many distinct customers interacted with them; an item reached by
fewer than `recommend_min_item_customers` customers is left out. Only ranked item ids leave the broker.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select

from consent.vocabulary import Category, Purpose
from infomediary.audiences.models import AudienceIndexRow
from infomediary.audiences.predicate import Node, canonical, compile_where
from infomediary.audiences.service import count_audience
from infomediary.audiences.standing import Standing
from infomediary.consents import repository as consents
from infomediary.consents.decision_point import supplier_query
from infomediary.consents.set_filter import permits
from infomediary.database import WriteSession
from infomediary.products import service as products
from infomediary.recommendations import history
from infomediary.runtime import Runtime


@dataclass(frozen=True)
class AudienceItems:
    items: list[products.ItemView]
    suppressed: bool
    minimum_cohort: int
    audience_count: int | None
    standing: Standing


def top_items(
    session: WriteSession, runtime: Runtime, supplier_id: str, predicate: Node, n: int
) -> AudienceItems:
    settings = runtime.settings
    counted = count_audience(session, runtime, supplier_id, predicate, Purpose.PERSONALISATION)
    if counted.suppressed:
        return AudienceItems([], True, counted.minimum_cohort, None, counted.standing)
    known = set(products.items_of(session, supplier_id))
    form = canonical(predicate)
    allowed: dict[str, list[Category]] = {}
    for category in history.INTERACTION_CATEGORIES:
        query = supplier_query(
            session, supplier_id=supplier_id, purpose=history.PURPOSE, categories=[category],
            release_kind=history.RELEASE_KIND,
        )  # fmt: skip
        policy = consents.policy_in_force(session, supplier_id, query.now)
        customers = session.scalars(
            select(AudienceIndexRow.customer_id)
            .where(compile_where(form), permits(AudienceIndexRow.customer_id, query, policy, correlated=True))
            .order_by(AudienceIndexRow.customer_id)
            .limit(settings.recommend_audience_max_customers)
        ).all()
        for customer_id in customers:
            allowed.setdefault(customer_id, []).append(category)
    reached: Counter[str] = Counter()
    for customer_id, categories in allowed.items():
        reached.update(history.read(session, runtime, customer_id, known, categories).weights.keys())
    floor = settings.recommend_min_item_customers
    ranked = [item for item, c in sorted(reached.items(), key=lambda p: (-p[1], p[0])) if c >= floor][:n]
    views = products.items_of(session, supplier_id, ranked)
    return AudienceItems(
        [views[i] for i in ranked if i in views],
        False,
        counted.minimum_cohort,
        counted.count,
        counted.standing,
    )
