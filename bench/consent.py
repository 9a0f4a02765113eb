"""Benchmark of consent.decide(): one customer with 50 consent records and 5 standing terms.

Run from the repository root: `python -m bench.consent`. Prints microseconds per decision, a plain
dict-lookup baseline measured in the same run (one lookup per asked category, the cheapest conceivable
consent check) and the ratio between them. The goal is at most 20 microseconds per decision.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from consent.decision import CustomerContext, DecisionRequest, SupplierQuery, decide
from consent.policy import PolicyInForce, SupplierPolicy
from consent.records import ALL_CATEGORIES, ALL_SUPPLIERS, ConsentPortfolio, ConsentRecord, ConsentState
from consent.terms import MinPrice, NeverCategory, NeverPurpose, OnlyUnstruckSuppliers, StandingTerms
from consent.vocabulary import Category, Purpose, ReleaseKind

GOAL_US = 20.0
REPEATS = 5
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def build() -> tuple[DecisionRequest, ConsentPortfolio, StandingTerms, PolicyInForce]:
    """A realistic busy customer: records for several suppliers, wildcards, expiries and prices."""
    rng = random.Random(42)
    suppliers = ["acme", *(f"s{i}" for i in range(9))]
    records: list[ConsentRecord] = []
    seen: set[tuple[object, ...]] = set()
    # Records that the benchmarked request actually meets, so the hot path does real work.
    hits = [
        ("acme", Purpose.MARKETING, Category.INTERESTS, ConsentState.GIVEN, 5),
        ("acme", Purpose.MARKETING, ALL_CATEGORIES, ConsentState.GIVEN, 2),
        (ALL_SUPPLIERS, Purpose.MARKETING, Category.ACTIVITY, ConsentState.REFUSED, None),
        (ALL_SUPPLIERS, Purpose.MARKETING, ALL_CATEGORIES, ConsentState.GIVEN, None),
        ("acme", Purpose.MARKETING, Category.PURCHASES, ConsentState.GIVEN, 8),
    ]
    for supplier, purpose, category, state, price in hits:
        seen.add((supplier, purpose, category))
        records.append(
            ConsentRecord(
                record_id=f"r{len(records)}",
                customer_id="c1",
                supplier=supplier,
                purpose=purpose,
                category=category,
                state=state,
                created_at=NOW - timedelta(days=30),
                updated_at=NOW - timedelta(days=10 + len(records)),
                policy_version=None if supplier is ALL_SUPPLIERS else 2,
                expires_at=NOW + timedelta(days=30),
                price=price,
            )
        )
    states = list(ConsentState)
    while len(records) < 50:
        supplier = rng.choice([*suppliers, ALL_SUPPLIERS])
        purpose = rng.choice(list(Purpose))
        category = rng.choice([*Category, ALL_CATEGORIES])
        if (supplier, purpose, category) in seen:
            continue
        seen.add((supplier, purpose, category))
        state = rng.choice(states)
        records.append(
            ConsentRecord(
                record_id=f"r{len(records)}",
                customer_id="c1",
                supplier=supplier,
                purpose=purpose,
                category=category,
                state=state,
                created_at=NOW - timedelta(days=60),
                updated_at=NOW - timedelta(days=rng.randint(1, 59)),
                policy_version=None if supplier is ALL_SUPPLIERS else rng.randint(1, 3),
                expires_at=rng.choice([None, NOW + timedelta(days=5), NOW - timedelta(days=5)]),
                price=rng.choice([None, 0, 3, 20]),
            )
        )
    terms = StandingTerms.of(
        "c1",
        [
            NeverCategory("t1", Category.HEALTH),
            NeverCategory("t2", Category.RELIGION),
            NeverPurpose("t3", Purpose.SELL_DATA_TO_THIRD_PARTIES),
            MinPrice("t4", 10, Category.PRECISE_LOCATION),
            OnlyUnstruckSuppliers("t5"),
        ],
    )
    policy = PolicyInForce(
        SupplierPolicy(
            "acme",
            3,
            frozenset({Purpose.MARKETING, Purpose.PERSONALISATION}),
            frozenset({Category.INTERESTS, Category.ACTIVITY, Category.PURCHASES, Category.DEMOGRAPHICS}),
            NOW - timedelta(days=90),
        ),
        consent_floor_version=2,
    )
    request = DecisionRequest(
        CustomerContext("c1", gpc=True, gpc_recorded_at=NOW - timedelta(days=100)),
        SupplierQuery(
            supplier_id="acme",
            purpose=Purpose.MARKETING,
            categories=frozenset({Category.INTERESTS, Category.PURCHASES, Category.DEMOGRAPHICS}),
            release_kind=ReleaseKind.PSEUDONYMOUS_SLICE,
            now=NOW,
            offered_price=10,
        ),
    )
    return request, ConsentPortfolio.of("c1", records), terms, policy


def best_ns_per_call(fn: Callable[[], object], iterations: int) -> float:
    """Best of REPEATS timings of `iterations` calls, in nanoseconds per call."""
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter_ns()
        for _ in range(iterations):
            fn()
        best = min(best, (time.perf_counter_ns() - start) / iterations)
    return best


def main() -> None:
    request, portfolio, terms, policy = build()
    decision = decide(request, portfolio, terms, policy)
    # The baseline: a dict of the same 50 records keyed by (supplier, purpose, category), one lookup
    # per asked category. It is what "just look it up" would cost, with none of the rules.
    table = {(r.supplier, r.purpose, r.category): r for r in portfolio.records}
    keys = [("acme", request.query.purpose, c) for c in request.query.ordered_categories]

    def baseline() -> object:
        return [table.get(k) for k in keys]

    def decision_call() -> object:
        return decide(request, portfolio, terms, policy)

    iterations = 100_000
    base_ns = best_ns_per_call(baseline, iterations)
    decide_ns = best_ns_per_call(decision_call, iterations)
    decide_us = decide_ns / 1000
    print("consent.decide(): 50 consent records, 5 standing terms, 3 categories asked")
    outcome = f"permitted={decision.permitted} reason={decision.reason.value} asked={decision.asked_price}"
    print(f"  decision: {outcome}")
    print(f"  decide():           {decide_us:8.2f} us per decision (best of {REPEATS} x {iterations})")
    print(f"  dict-lookup base:   {base_ns / 1000:8.2f} us per call")
    print(f"  ratio:              {decide_ns / base_ns:8.1f} x baseline")
    print(f"  goal:               {GOAL_US:8.2f} us -> {'met' if decide_us <= GOAL_US else 'MISSED'}")


if __name__ == "__main__":
    main()
