"""Benchmark of the set-based form: the SQL filter deciding a whole population at once.

Run from the repository root: `python -m bench.consent_sql [--customers N] [--database-url URL]`. Seeds N
customers (default 200,000) with a realistic mix of consent records, standing terms and GPC signals into a
temporary SQLite file (or into the given, empty PostgreSQL database, dropped afterwards), then times
`set_filter.permitted_customers` counting the permitted customers, and `decide()` in process over the same
population (the baseline measured in the same run). Goal: at least 200,000 customers decided per second.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select

from consent.decision import CustomerContext, DecisionRequest, SupplierQuery, decide
from consent.policy import PolicyInForce, SupplierPolicy
from consent.records import ALL_CATEGORIES, ALL_SUPPLIERS, ConsentPortfolio, ConsentRecord, ConsentState
from consent.terms import MinPrice, NeverCategory, StandingTerm, StandingTerms
from consent.vocabulary import Category, Purpose, ReleaseKind
from infomediary.consents import repository
from infomediary.consents.models import ConsentRecordRow, PrivacySignalRow, StandingTermRow
from infomediary.consents.set_filter import permitted_customers
from infomediary.customers.models import Customer
from infomediary.database import create_db_engine
from infomediary.models import Base
from infomediary.suppliers.models import Supplier

GOAL_PER_SECOND = 200_000
NOW = datetime(2026, 6, 1, tzinfo=UTC)
SUPPLIERS = ["sup_acme", *(f"sup_{i}" for i in range(9))]
REPEATS = 3


def population(
    n: int,
) -> tuple[list[str], list[ConsentRecord], list[tuple[str, StandingTerm]], dict[str, datetime]]:
    rng = random.Random(7)
    customers = [f"cus_{i:08d}" for i in range(n)]
    records: list[ConsentRecord] = []
    terms: list[tuple[str, StandingTerm]] = []
    gpc: dict[str, datetime] = {}
    states = [ConsentState.GIVEN] * 5 + [ConsentState.REFUSED, ConsentState.WITHDRAWN, ConsentState.EXPIRED]
    for customer_id in customers:
        # Most customers never touch their consents; an active minority has a handful of records.
        for index in range(rng.choice([0, 0, 0, 1, 2, 4])):
            supplier = rng.choice([*SUPPLIERS[:3], ALL_SUPPLIERS])
            at = NOW - timedelta(days=rng.randint(1, 300))
            records.append(
                ConsentRecord(
                    record_id=f"{customer_id}r{index}",
                    customer_id=customer_id,
                    supplier=supplier,
                    purpose=rng.choice([Purpose.MARKETING, Purpose.MARKETING, Purpose.PERSONALISATION]),
                    category=rng.choice(
                        [Category.INTERESTS, Category.PURCHASES, Category.HEALTH, ALL_CATEGORIES]
                    ),
                    state=rng.choice(states),
                    created_at=at,
                    updated_at=at,
                    policy_version=None if supplier is ALL_SUPPLIERS else rng.randint(1, 2),
                    expires_at=rng.choice([None, None, NOW + timedelta(days=30), NOW - timedelta(days=1)]),
                    price=rng.choice([None, None, 2, 20]),
                )
            )
        if rng.random() < 0.05:
            terms.append((customer_id, NeverCategory(f"{customer_id}t1", Category.HEALTH)))
        if rng.random() < 0.05:
            terms.append((customer_id, MinPrice(f"{customer_id}t2", rng.choice([5, 50]), None)))
        if rng.random() < 0.2:
            gpc[customer_id] = NOW - timedelta(days=rng.randint(1, 300))
    return customers, records, terms, gpc


def seed(
    url: str,
    customers: list[str],
    records: list[ConsentRecord],
    terms: list[tuple[str, StandingTerm]],
    gpc: dict[str, datetime],
) -> Any:
    engine = create_db_engine(url)
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(Supplier), [{"id": s, "name": s, "created_at": NOW} for s in SUPPLIERS])
        step = 20_000
        for start in range(0, len(customers), step):
            conn.execute(
                insert(Customer),
                [
                    {
                        "id": c,
                        "password_hash": "-",
                        "created_at": NOW,
                        "password_changed_at": NOW,
                    }
                    for c in customers[start : start + step]
                ],
            )
        rows = [_record_values(r) for r in records]
        for start in range(0, len(rows), step):
            conn.execute(insert(ConsentRecordRow), rows[start : start + step])
        conn.execute(
            insert(StandingTermRow),
            [
                {
                    "id": t.term_id,
                    "customer_id": c,
                    "kind": repository.NEVER_CATEGORY
                    if isinstance(t, NeverCategory)
                    else repository.MIN_PRICE,
                    "category": t.category.value if isinstance(t, NeverCategory) else None,
                    "credits": t.credits if isinstance(t, MinPrice) else None,
                    "created_at": NOW,
                }
                for c, t in terms
            ],
        )
        conn.execute(
            insert(PrivacySignalRow),
            [{"customer_id": c, "gpc": True, "recorded_at": at} for c, at in gpc.items()],
        )
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    return engine


def _record_values(record: ConsentRecord) -> dict[str, Any]:
    row = repository.new_row(record)
    return {c.key: getattr(row, c.key) for c in ConsentRecordRow.__table__.columns}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument(
        "--database-url", default=None, help="an EMPTY database (its tables are dropped after)"
    )
    args = parser.parse_args()
    customers, records, terms, gpc = population(args.customers)
    policy = PolicyInForce(
        SupplierPolicy("sup_acme", 2, frozenset(Purpose), frozenset(Category), NOW - timedelta(days=400)), 1
    )
    queries = {
        "opt-out: marketing, interests+purchases, offered 10": SupplierQuery(
            "sup_acme",
            Purpose.MARKETING,
            frozenset({Category.INTERESTS, Category.PURCHASES}),
            ReleaseKind.AGGREGATE_COUNT,
            NOW,
            offered_price=10,
        ),
        "opt-in: marketing, health": SupplierQuery(
            "sup_acme", Purpose.MARKETING, frozenset({Category.HEALTH}), ReleaseKind.AGGREGATE_COUNT, NOW
        ),
    }
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        started = time.perf_counter()
        engine = seed(url, customers, records, terms, gpc)
        print(
            f"set-based consent filter on {engine.dialect.name}: {len(customers):,} customers, "
            f"{len(records):,} records, {len(terms):,} terms, {len(gpc):,} GPC signals "
            f"(seeded in {time.perf_counter() - started:.1f} s)"
        )
        portfolios: dict[str, list[ConsentRecord]] = {c: [] for c in customers}
        for record in records:
            portfolios[record.customer_id].append(record)
        terms_of: dict[str, list[StandingTerm]] = {c: [] for c in customers}
        for c, t in terms:
            terms_of[c].append(t)
        built = [
            (
                CustomerContext(c, gpc=c in gpc, gpc_recorded_at=gpc.get(c)),
                ConsentPortfolio.of(c, portfolios[c]),
                StandingTerms.of(c, terms_of[c]),
            )
            for c in customers
        ]
        try:
            for label, query in queries.items():
                statement = select(func.count()).select_from(permitted_customers(query, policy).subquery())
                best = float("inf")
                for _ in range(REPEATS):
                    with engine.connect() as conn:
                        start = time.perf_counter()
                        permitted = int(conn.scalar(statement) or 0)
                        best = min(best, time.perf_counter() - start)
                start = time.perf_counter()
                in_process = sum(
                    decide(DecisionRequest(ctx, query), p, t, policy).permitted for ctx, p, t in built
                )
                in_process_s = time.perf_counter() - start
                assert in_process == permitted, (in_process, permitted)
                sql_rate = len(customers) / best
                py_rate = len(customers) / in_process_s
                print(f"  {label}")
                print(f"    permitted:            {permitted:,} of {len(customers):,}")
                print(f"    SQL filter:           {best * 1000:9.1f} ms -> {sql_rate:12,.0f} customers/s")
                print(
                    f"    decide() in process:  {in_process_s * 1000:9.1f} ms -> {py_rate:12,.0f} customers/s"
                )
                print(f"    ratio SQL/in-process: {sql_rate / py_rate:9.1f} x")
                print(
                    f"    goal {GOAL_PER_SECOND:,}/s -> {'met' if sql_rate >= GOAL_PER_SECOND else 'MISSED'}"
                )
        finally:
            if args.database_url:
                Base.metadata.drop_all(engine)
            engine.dispose()


if __name__ == "__main__":
    main()
