"""Figures derived from the customer's purchases: recency, frequency, monetary value and a lifetime value.

Every figure names the records it came from (``source``: kind, count, first and last time), so the customer
can trace it back and never has to tell the service the same thing twice.

Lifetime value (documented, deliberately simple): per currency,
``average order value over the window x orders in the window (per year) x EXPECTED_LIFETIME_YEARS``, with a
365-day window. It is an estimate of future spend at the current pace, not a prediction model.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from infomediary.database import utcnow
from infomediary.profiles import datakeys, repository
from infomediary.profiles.activity import open_record
from infomediary.runtime import Runtime

WINDOW_DAYS = 365
EXPECTED_LIFETIME_YEARS = 3
LTV_METHOD = (
    f"average order value over the last {WINDOW_DAYS} days x orders in those days x "
    f"{EXPECTED_LIFETIME_YEARS} expected years, per currency"
)


@dataclass(frozen=True)
class Source:
    kind: str
    count: int
    first: datetime | None
    last: datetime | None


@dataclass(frozen=True)
class MoneyFigure:
    currency: str
    amount: int
    source: Source


@dataclass(frozen=True)
class Insights:
    recency_days: int | None
    recency_source: Source
    frequency: int
    frequency_source: Source
    monetary: list[MoneyFigure]
    average_order_value: list[MoneyFigure]
    lifetime_value: list[MoneyFigure]
    lifetime_value_method: str
    window_days: int


def _source(times: list[datetime]) -> Source:
    return Source("purchases", len(times), min(times, default=None), max(times, default=None))


def derive(session: Session, runtime: Runtime, customer_id: str, now: datetime | None = None) -> Insights:
    now = now or utcnow()
    cipher = datakeys.cipher_for(session, runtime, customer_id)
    purchases: list[tuple[datetime, Mapping[str, Any]]] = [
        (view.occurred_at, view.record)
        for view in (
            open_record(cipher, row) for row in repository.records_of_kind(session, customer_id, "purchase")
        )
    ]
    return figures(purchases, now)


def figures(purchases: Sequence[tuple[datetime, Mapping[str, Any]]], now: datetime) -> Insights:
    """The figures from purchase documents and their times; pure, so the demo's bulk seeder uses it too."""
    since = now - timedelta(days=WINDOW_DAYS)
    recent = [(at, doc) for at, doc in purchases if at >= since]
    all_times = [at for at, _ in purchases]
    last = max(all_times, default=None)

    spent: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
    for at, doc in recent:
        spent[doc["currency"]].append((at, int(doc["amount"])))
    monetary, average, lifetime = [], [], []
    for currency in sorted(spent):
        entries = spent[currency]
        source = _source([at for at, _ in entries])
        total = sum(amount for _, amount in entries)
        aov = total // len(entries)
        monetary.append(MoneyFigure(currency, total, source))
        average.append(MoneyFigure(currency, aov, source))
        # Orders per year at the window's pace, times the expected remaining years.
        lifetime.append(MoneyFigure(currency, aov * len(entries) * EXPECTED_LIFETIME_YEARS, source))
    return Insights(
        recency_days=(now - last).days if last is not None else None,
        recency_source=_source(all_times),
        frequency=len(recent),
        frequency_source=_source([at for at, _ in recent]),
        monetary=monetary,
        average_order_value=average,
        lifetime_value=lifetime,
        lifetime_value_method=LTV_METHOD,
        window_days=WINDOW_DAYS,
    )
