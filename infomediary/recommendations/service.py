"""Recommendations for one of the supplier's pseudonyms: consent-gated, ranked, rules applied, logged.

Steps, all in the caller's transaction: resolve the pseudonym among this supplier's stable ones only
(another supplier's, or one from a slice release, answers exactly like an unknown one); decide
personalisation per category and log each decision; refuse when neither activity nor purchases may be
used; decrypt only the permitted kinds of the customer's interactions with items of this supplier's
catalog, minus the items the customer removed; rank with the trained model (or popular items of the
customer's consented segments on a cold start); fire the supplier's rules on the consented facts; keep
only items in the supplier's catalog now; log the release.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from consent.vocabulary import Category
from infomediary.consents.declared_use import require_declared
from infomediary.database import WriteSession, utcnow
from infomediary.policylog import kinds
from infomediary.policylog.service import append_many as log_append_many
from infomediary.products import service as products
from infomediary.profiles import datakeys
from infomediary.pseudonyms import service as pseudonyms
from infomediary.recommendations import exclusions, facts, history, ranking, store
from infomediary.recommendations.errors import PersonalisationDenied
from infomediary.rules import service as rules
from infomediary.rules.evaluate import effects as fire
from infomediary.rules.language import ApplyDiscount, Rule, ShowItem, categories_of
from infomediary.runtime import Runtime

DEFAULT_ALGORITHM = "als"


@dataclass(frozen=True)
class RecommendedItem:
    id: str
    title: str
    categories: list[str]
    price: int
    currency: str
    score: float
    source: str


@dataclass(frozen=True)
class Recommendations:
    items: list[RecommendedItem]
    discounts: list[ApplyDiscount]
    rules_fired: list[str]
    strategy: str


def recommend(
    session: WriteSession,
    runtime: Runtime,
    supplier_id: str,
    pseudonym: str,
    n: int,
    *,
    algorithm: str = DEFAULT_ALGORITHM,
) -> Recommendations:
    # Checked before the pseudonym is resolved, so the refusal says nothing about any customer. Only the
    # purpose is the supplier's choice here: the categories read are the broker's, each decided on its own.
    require_declared(
        session,
        runtime.settings,
        supplier_id,
        purpose=history.PURPOSE,
        categories=(),
        release_kind=history.RELEASE_KIND,
        now=utcnow(),
    )
    # Only a customer who chose a relationship (her stable pseudonym): her ranking is a function of her, so
    # asked under two slices' release pseudonyms it would match and join the slices again.
    customer_id = pseudonyms.resolve(session, runtime, supplier_id, pseudonym, stable_only=True)
    return for_customer(session, runtime, supplier_id, customer_id, n, algorithm=algorithm)


def for_customer(
    session: WriteSession,
    runtime: Runtime,
    supplier_id: str,
    customer_id: str,
    n: int,
    *,
    algorithm: str = DEFAULT_ALGORITHM,
) -> Recommendations:
    """`recommend` once the pseudonym is resolved (the evaluation and the benchmark call this directly)."""
    n = min(n, runtime.settings.recommend_max_n)
    supplier_rules = rules.enabled_rules(session, supplier_id)
    wanted = [*history.INTERACTION_CATEGORIES, *sorted(facts.SEGMENT_CATEGORIES)]
    for rule in supplier_rules.values():
        wanted.extend(sorted(categories_of(rule)))
    decisions, decision_entries = history.decide_with_entries(
        session, runtime, supplier_id, customer_id, wanted
    )
    permitted = {c for c, d in decisions.items() if d.permitted}
    interactions = [c for c in history.INTERACTION_CATEGORIES if c in permitted]
    if not interactions:
        raise PersonalisationDenied().recording(
            lambda record_in: log_append_many(record_in, decision_entries)
        )

    models = store.load(session, supplier_id)
    known = models.index if models is not None else set(products.items_of(session, supplier_id))
    # One data-key read for both sealed reads of this customer.
    cipher = datakeys.cipher_for(session, runtime, customer_id)
    excluded = exclusions.read(session, runtime, customer_id, supplier_id, cipher=cipher)
    found = history.read(session, runtime, customer_id, known, interactions, excluded=excluded, cipher=cipher)
    row = facts.index_row(session, customer_id)
    pool = 4 * n + 20
    candidates: list[ranking.Candidate] = []
    if models is not None:
        candidates = ranking.collaborative(models, found.weights, pool, algorithm)
        if not candidates:
            seen = set(found.weights) | excluded
            candidates = ranking.popular(models, facts.segments(row, permitted), seen, pool)
    shown = [c.item for c in candidates]
    items = products.listings_of(session, supplier_id, [*shown, *found.basket, *_rule_items(supplier_rules)])
    effects = fire(supplier_rules, facts.facts(row, permitted, found.basket, items), permitted)
    ranked = ranking.apply_rules(candidates, effects, {i: v.categories for i, v in items.items()}, n)
    strategy = ranked[0].source if ranked else "none"
    # The decisions and the release in one append: one lock of the log and one bulk insert per request.
    log_append_many(
        session,
        [*decision_entries, _release_entry(supplier_id, sorted(permitted), len(ranked), len(effects.fired))],
    )
    return Recommendations(
        items=[
            RecommendedItem(
                id=c.item,
                title=items[c.item].title,
                categories=items[c.item].categories,
                price=items[c.item].price,
                currency=items[c.item].currency,
                score=round(c.score, 6),
                source=c.source,
            )
            for c in ranked
        ],
        discounts=effects.discounts,
        rules_fired=effects.fired,
        strategy=strategy,
    )


def _rule_items(supplier_rules: dict[str, Rule]) -> list[str]:
    out: list[str] = []
    for rule in supplier_rules.values():
        out.extend(a.item for a in rule.then if isinstance(a, ShowItem))
    return out


def _release_entry(supplier_id: str, categories: list[Category], count: int, fired: int) -> dict[str, Any]:
    return {
        "kind": kinds.RELEASE,
        "supplier_id": supplier_id,
        "purpose": history.PURPOSE.value,
        "categories": [c.value for c in categories],
        "release": {
            "kind": history.RELEASE_KIND.value,
            "categories": [c.value for c in categories],
            "count": 1,
            "epsilon_milli": 0,
        },
        "details": {"recommended_items": count, "rules_fired": fired},
    }
