"""Top items for an audience: a differentially private selection from the supplier's own catalogue.

What a supplier learns: the audience's noisy count (`audiences.service.count_audience`: noise, minimum cohort,
budget, cache, release entry; a suppressed count answers no items), and a ranked list of at most `n` of its
own catalogue items drawn by `audiences.topk.noisy_top_k`. Never a score, a customer or an exact count.

Why the list is epsilon-DP, epsilon = `recommend_audience_epsilon`: the candidates are the supplier's whole
catalogue (its own data), so an item appearing says nothing by itself. The population is the customers who
match the predicate and permit personalisation of activity or purchases, the first
`recommend_audience_max_customers` of them by id. Each contributes 1 to each of her
`recommend_audience_items_per_customer` heaviest catalogue items (`topk.bounded_scores`), so one customer
more or less moves every score by at most 1 (in either direction, since the cap may let another customer
in). OpenDP's noisy top-k spends epsilon over the k selections together; the noisy threshold
(`recommend_min_item_customers`) is a constant candidate inside the mechanism, so cutting the list at it is
free. The exact floor it replaces leaked: "audience A" against "A minus one customer" showed her items.

Averaging is stopped by storage, like counts: the first answer for a predicate and `n` in a budget period and
population epoch is stored (`AudienceItemsAnswerRow`) and a repeat gets it back without spending again; a
new draw happens, and is charged, only in a new period or after a customer left the population.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from consent.vocabulary import Category, Purpose
from infomediary.audiences import accounting, budget, topk
from infomediary.audiences.index import current_epoch
from infomediary.audiences.models import AudienceIndexRow
from infomediary.audiences.noise import MILLI
from infomediary.audiences.predicate import Canonical, Node, canonical, categories_of, compile_where, dump
from infomediary.audiences.service import count_audience, log_release
from infomediary.audiences.standing import Standing
from infomediary.consents import repository as consents
from infomediary.consents.decision_point import supplier_query
from infomediary.consents.set_filter import permits
from infomediary.database import WriteSession, utcnow
from infomediary.products import service as products
from infomediary.profiles.errors import CustomerShredded
from infomediary.recommendations import history
from infomediary.recommendations.models import AudienceItemsAnswerRow
from infomediary.runtime import Runtime

PURPOSE = Purpose.PERSONALISATION


@dataclass(frozen=True)
class AudienceItems:
    items: list[products.ItemView]
    suppressed: bool
    minimum_cohort: int
    audience_count: int | None
    # Spent by this request, the audience count's share included; 0 for a stored answer.
    epsilon_charged: float
    epsilon_remaining: float
    cached: bool
    budget_resets_at: datetime

    @property
    def standing(self) -> Standing:
        return Standing(round(self.epsilon_remaining * MILLI), self.budget_resets_at)


@dataclass(frozen=True)
class Population:
    """The customers whose data may feed one selection, their interaction weights, and the candidates."""

    customers: tuple[str, ...]
    weights: tuple[Mapping[str, float], ...]
    candidates: tuple[str, ...]


def query_key(canonical_text: str, n: int) -> str:
    return hashlib.sha256(f"audience_items\n{n}\n{canonical_text}".encode()).hexdigest()


def top_items(
    session: WriteSession,
    runtime: Runtime,
    supplier_id: str,
    predicate: Node,
    n: int,
    *,
    now: datetime | None = None,
) -> AudienceItems:
    now = now or utcnow()
    settings = runtime.settings
    counted = count_audience(session, runtime, supplier_id, predicate, PURPOSE, now=now)
    if counted.suppressed:
        return AudienceItems(
            [],
            True,
            counted.minimum_cohort,
            None,
            counted.epsilon_charged,
            counted.epsilon_remaining,
            counted.cached,
            counted.budget_resets_at,
        )
    form = canonical(predicate)
    text = dump(form)
    key = query_key(text, n)
    period = budget.period_of(now, settings)
    epoch = current_epoch(session)
    stored = _stored(session, supplier_id, period.start, key)
    # Read (and decrypted) before the budget's lock, as counts count before it: a repeat needs none of it.
    population = None if _fresh(stored, epoch) else _population(session, runtime, supplier_id, form)
    ledger = budget.open_ledger(session, supplier_id, now, settings)
    # Under the lock, again: a twin of this request may have drawn and stored its answer meanwhile.
    stored = _stored(session, supplier_id, period.start, key)
    if stored is not None and _fresh(stored, epoch):
        ids: list[str] = json.loads(stored.items)
        log_release(session, supplier_id, PURPOSE, _categories(predicate), 0, 0)
        cost = 0
    else:
        population = population or _population(session, runtime, supplier_id, form)
        ids, cost = release_items(session, runtime, ledger, supplier_id, predicate, population, n, now)
        _remember(session, stored, supplier_id, period.start, key, text, ids, cost, epoch, now)
    views = products.items_of(session, supplier_id, ids)
    return AudienceItems(
        # An item deleted from the catalogue since a stored draw is left out: post-processing, free.
        [views[i] for i in ids if i in views],
        False,
        counted.minimum_cohort,
        counted.count,
        counted.epsilon_charged + cost / MILLI,
        ledger.remaining_milli / MILLI,
        cost == 0,
        period.resets_at,
    )


def release_items(
    session: WriteSession,
    runtime: Runtime,
    ledger: budget.Ledger,
    supplier_id: str,
    predicate: Node,
    population: Population,
    n: int,
    now: datetime,
) -> tuple[list[str], int]:
    """Every fresh audience top-items draw goes through here: charge, draw, log; the item ids and the cost.

    `population.customers` are the customers whose data may feed the draw; those the individual privacy
    filter admits do, each charged on her own account. The charge comes first, in the caller's
    transaction: a refused charge (`BudgetExhausted`) draws nothing.
    """
    settings = runtime.settings
    cost = round(settings.recommend_audience_epsilon * MILLI)
    budget.charge(session, ledger, cost, now)
    # Each customer whose data may feed the draw is charged its epsilon on her own account; one at her cap
    # is left out (the individual privacy filter), and the scores are of the admitted customers only.
    admitted = accounting.admit_customers(
        session,
        settings,
        supplier_id=supplier_id,
        kind=accounting.AUDIENCE_ITEMS,
        epsilon_milli=cost,
        customer_ids=population.customers,
        now=now,
    )
    fed = (
        weights
        for customer, weights in zip(population.customers, population.weights, strict=True)
        if customer in admitted
    )
    scores = topk.bounded_scores(fed, population.candidates, settings.recommend_audience_items_per_customer)
    picked = topk.noisy_top_k(scores, n, settings.recommend_min_item_customers, cost)
    # `count` 0: no figure about customers is released here (the audience count has its own entry).
    log_release(session, supplier_id, PURPOSE, _categories(predicate), 0, cost)
    return [population.candidates[i] for i in picked], cost


def _population(session: WriteSession, runtime: Runtime, supplier_id: str, form: Canonical) -> Population:
    settings = runtime.settings
    # The supplier's whole catalogue, in a fixed order: the candidate domain does not depend on customers.
    candidates = tuple(sorted(products.items_of(session, supplier_id)))
    allowed: dict[str, list[Category]] = {}
    for category in history.INTERACTION_CATEGORIES:
        query = supplier_query(
            session, supplier_id=supplier_id, purpose=history.PURPOSE, categories=[category],
            release_kind=history.RELEASE_KIND,
        )  # fmt: skip
        policy = consents.policy_in_force(session, supplier_id, query.now)
        customers = session.scalars(
            select(AudienceIndexRow.customer_id).where(
                compile_where(form), permits(AudienceIndexRow.customer_id, query, policy, correlated=True)
            )
        ).all()
        for customer_id in customers:
            allowed.setdefault(customer_id, []).append(category)
    # One cap over the union, by id (no one's data decides who is in): one customer more or less lets at
    # most one other in or out, which the mechanism's sensitivity covers.
    chosen = tuple(sorted(allowed)[: settings.recommend_audience_max_customers])
    known = set(candidates)
    fed: list[str] = []
    weights: list[Mapping[str, float]] = []
    for customer in chosen:
        try:
            weights.append(history.read(session, runtime, customer, known, allowed[customer]).weights)
        except CustomerShredded:
            continue  # erased, her rows back from an older backup: skipped like any erased customer
        fed.append(customer)
    return Population(tuple(fed), tuple(weights), candidates)


def _categories(predicate: Node) -> list[str]:
    """What an answer is derived from: the predicate's categories and the interactions scored."""
    return sorted(
        {c.value for c in categories_of(predicate)} | {c.value for c in history.INTERACTION_CATEGORIES}
    )


def _stored(
    session: WriteSession, supplier_id: str, period_start: datetime, key: str
) -> AudienceItemsAnswerRow | None:
    return session.get(AudienceItemsAnswerRow, (supplier_id, period_start, key), populate_existing=True)


def _fresh(stored: AudienceItemsAnswerRow | None, epoch: int) -> bool:
    return stored is not None and stored.epoch == epoch


def _remember(
    session: WriteSession,
    stale: AudienceItemsAnswerRow | None,
    supplier_id: str,
    period_start: datetime,
    key: str,
    text: str,
    ids: list[str],
    cost: int,
    epoch: int,
    now: datetime,
) -> None:
    """Store the drawn answer for repeats; one retired by a population change is overwritten in place."""
    row = stale or AudienceItemsAnswerRow(supplier_id=supplier_id, period_start=period_start, query_key=key)
    row.predicate = text
    row.items = json.dumps(ids)
    row.epsilon_milli = cost
    row.epoch = epoch
    row.created_at = now
    session.add(row)
    session.flush()
