"""Benchmark of audience counts: the consent-gated count against the same count written by hand in SQL.

Run from the repository root: `python -m bench.broker [--customers N] [--database-url URL]`. Seeds N customers
(default 1,000,000) in bulk straight into the tables (customers, audience index rows drawn like the demo's
synthetic population, and refusals or withdrawals by a tenth of them), then times, for a five-condition
predicate: the SQL `count_audience` runs (`repository.count_statement`: the index filter plus the consent
set filter), the whole `count_audience` (budget, noise, cache row, release log entry), and the hand-written
SQL on the same tables in the same run. Goals: at most 1.5x the hand-written SQL, and at most 100 ms on
PostgreSQL at one million customers.

The population is seeded directly, not through `infomediary demo`: sealing a million profiles and their
activity through the vault takes hours, while the count reads only the index and the consent tables. The
hand-written SQL encodes the decision rules that matter for this population (deny records and terms only,
so "any refusal or withdrawal in scope excludes" is exact); the run asserts both give the same count.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from consent.catalog import Category, Purpose, ReleaseKind
from infomediary.audiences import dimensions as dims
from infomediary.audiences import repository, service
from infomediary.audiences.models import AudienceIndexRow
from infomediary.audiences.predicate import Predicate, canonical, categories_of, compile_where
from infomediary.consents.decision_point import supplier_query
from infomediary.consents.models import ConsentRecordRow, SupplierPolicyRow
from infomediary.customers.models import Customer
from infomediary.database import create_db_engine
from infomediary.models import Base
from infomediary.suppliers.models import Supplier

NOW = datetime.now(UTC)
SUPPLIER = "sup_bench"
REPEATS = 5
GOAL_RATIO = 1.5
GOAL_PG_MS = 100.0
STEP = 50_000
PREDICATE = {
    "and": [
        {"in": ["age_band", ["25-34", "35-44"]]},
        {"eq": ["gender", "female"]},
        {"in": ["postal_prefix", ["75", "69", "10"]]},
        {"eq": ["interest", "cycling"]},
        {"range": ["rfm_monetary_band", 3, 5]},
    ]
}
HAND_SQL = """
SELECT count(*) FROM audience_index a
WHERE a.age_band IN ('25-34', '35-44') AND a.gender = 'female' AND a.postal_prefix IN ('75', '69', '10')
  AND (a.interests & {mask}) <> 0 AND a.rfm_monetary_band BETWEEN 3 AND 5
  AND NOT EXISTS (SELECT 1 FROM processing_restrictions r WHERE r.customer_id = a.customer_id)
  AND NOT EXISTS (
    SELECT 1 FROM standing_terms t WHERE t.customer_id = a.customer_id AND (
      (t.kind = 'never_purpose' AND t.purpose = 'marketing')
      OR (t.kind = 'never_category' AND t.category IN ('demographics', 'contact', 'interests', 'purchases'))
      OR (t.kind = 'min_price' AND t.credits > 0)))
  AND NOT EXISTS (
    SELECT 1 FROM consent_records c WHERE c.customer_id = a.customer_id AND c.purpose = 'marketing'
      AND (c.supplier_id = 'sup_bench' OR c.supplier_id IS NULL)
      AND (c.category IN ('demographics', 'contact', 'interests', 'purchases') OR c.category IS NULL)
      AND c.state IN ('refused', 'withdrawn'))
"""


def _index_row(rng: random.Random, customer_id: str) -> dict[str, Any]:
    age = int(rng.triangular(18, 90, 42))
    birth = NOW.date() - timedelta(days=age * 365 + 100)
    return {
        "customer_id": customer_id,
        "age_band": dims.age_band(birth, NOW.date()),
        "gender": rng.choices(dims.GENDERS[:3] + dims.GENDERS[4:], weights=(49, 48, 2, 1))[0],
        "postal_prefix": rng.choice(("10", "20", "75", "69", "28", "00", "11")),
        "interests": dims.interest_mask(rng.sample(dims.INTERESTS, rng.randint(1, 6))),
        "rfm_recency_band": rng.choice((None, 1, 2, 3, 4, 5)),
        "rfm_frequency_band": rng.choice((None, 1, 2, 3, 4, 5)),
        "rfm_monetary_band": rng.choice((None, 1, 2, 3, 4, 5)),
        "updated_at": NOW,
    }


def seed(url: str, customers: int) -> Any:
    engine = create_db_engine(url)
    Base.metadata.create_all(engine)
    rng = random.Random(7)
    with engine.begin() as conn:
        conn.execute(insert(Supplier), [{"id": SUPPLIER, "name": SUPPLIER, "created_at": NOW}])
        conn.execute(
            insert(SupplierPolicyRow),
            [
                {
                    "supplier_id": SUPPLIER,
                    "version": 1,
                    "purposes": [p.value for p in Purpose],
                    "categories": [c.value for c in Category],
                    "consent_floor_version": 1,
                    "published_at": NOW - timedelta(days=30),
                }
            ],
        )
        serial = 0
        for start in range(0, customers, STEP):
            ids = [f"cus_{i:010d}" for i in range(start, min(start + STEP, customers))]
            conn.execute(
                insert(Customer),
                [
                    {
                        "id": c,
                        "email_index": c.encode().ljust(32, b"\0"),
                        "password_hash": "!",
                        "created_at": NOW,
                        "password_changed_at": NOW,
                    }
                    for c in ids
                ],
            )
            conn.execute(insert(AudienceIndexRow), [_index_row(rng, c) for c in ids])
            records = []
            for c in ids:
                if rng.random() < 0.1:
                    serial += 1
                    at = NOW - timedelta(days=rng.randint(1, 300))
                    records.append(
                        {
                            "id": f"rec_{serial:010d}",
                            "customer_id": c,
                            "supplier_id": rng.choice((SUPPLIER, None)),
                            "purpose": rng.choice(("marketing", "personalisation")),
                            "category": rng.choice(("interests", "contact", "health", None)),
                            "state": rng.choice(("refused", "withdrawn")),
                            "created_at": at,
                            "updated_at": at,
                        }
                    )
            if records:
                conn.execute(insert(ConsentRecordRow), records)
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
    return engine


def _best(run: Any) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(REPEATS):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best * 1000, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument(
        "--database-url", default=None, help="an EMPTY database (its tables are dropped after)"
    )
    args = parser.parse_args()
    node = TypeAdapter[Any](Predicate).validate_python(PREDICATE)
    where = compile_where(canonical(node))
    mask = dims.interest_mask(["cycling"])
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        started = time.perf_counter()
        engine = seed(url, args.customers)
        backend = engine.dialect.name
        print(
            f"audience count on {backend}: {args.customers:,} customers "
            f"(seeded in {time.perf_counter() - started:.1f} s)"
        )
        try:
            with Session(engine) as session:
                query = supplier_query(
                    session,
                    supplier_id=SUPPLIER,
                    purpose=Purpose.MARKETING,
                    categories=categories_of(node),
                    release_kind=ReleaseKind.AGGREGATE_COUNT,
                    now=NOW,
                )
                hand_ms, hand = _best(lambda: int(session.scalar(text(HAND_SQL.format(mask=mask))) or 0))
                ours_ms, ours = _best(
                    lambda: int(session.scalar(repository.count_statement(session, query, where)) or 0)
                )
                assert hand == ours, (hand, ours)
                # The whole service, each time as a fresh query (a new purpose-free cache key per period
                # would be cached): a fresh period is simulated by clearing the stored answer.
                settings = SimpleNamespace(
                    audience_epsilon=0.5,
                    audience_min_cohort=50,
                    audience_epsilon_budget=100_000.0,
                    audience_budget_period_seconds=86_400,
                    audience_differencing_threshold=1_000,
                )
                runtime: Any = SimpleNamespace(settings=settings)

                def full() -> Any:
                    answer = service.count_audience(
                        session, runtime, SUPPLIER, node, Purpose.MARKETING, now=NOW
                    )
                    session.rollback()
                    return answer

                full_ms, answer = _best(full)
            print(
                f"  five-condition predicate: {hand:,} consenting customers match "
                f"(noisy answer {answer.count})"
            )
            print(f"    hand-written SQL:            {hand_ms:8.1f} ms")
            print(f"    count_audience SQL:          {ours_ms:8.1f} ms  ratio {ours_ms / hand_ms:4.2f}x")
            print(f"    count_audience, whole call:  {full_ms:8.1f} ms  ratio {full_ms / hand_ms:4.2f}x")
            ratio_ok = ours_ms <= GOAL_RATIO * hand_ms
            print(f"    goal <= {GOAL_RATIO}x hand-written -> {'met' if ratio_ok else 'MISSED'}")
            if backend == "postgresql":
                print(
                    f"    goal <= {GOAL_PG_MS:.0f} ms on PostgreSQL -> "
                    f"{'met' if full_ms <= GOAL_PG_MS else 'MISSED'}"
                )
        finally:
            if args.database_url:
                Base.metadata.drop_all(engine)
            engine.dispose()


if __name__ == "__main__":
    main()
