"""Counting an audience: consent-gated, noisy, suppressed below k, charged to a budget, cached, logged.

A count releases no individual's data, so no per-customer `decision` entries are appended; each answer
(fresh, cached or suppressed) appends one `release` entry with the released count (0 when suppressed) and
the epsilon it spent, in the caller's transaction. The true count is never stored, logged or returned.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from consent.vocabulary import Purpose, ReleaseKind
from infomediary.audiences import budget, differencing, noise, repository
from infomediary.audiences.index import current_epoch
from infomediary.audiences.models import AudienceAnswerRow
from infomediary.audiences.noise import MILLI
from infomediary.audiences.predicate import Node, canonical, categories_of, compile_where, conjuncts, dump
from infomediary.consents.decision_point import supplier_query
from infomediary.database import WriteSession, utcnow
from infomediary.policylog import kinds
from infomediary.policylog.service import append_at_commit
from infomediary.runtime import Runtime
from infomediary.sanctions import service as sanctions
from infomediary.settings import Settings

DIFFERENCING_STRIKE_REASON = "differencing pattern: audience queries that differ in exactly one condition"


@dataclass(frozen=True)
class AudienceCount:
    count: int | None
    suppressed: bool
    minimum_cohort: int
    epsilon_charged: float
    epsilon_remaining: float
    cached: bool
    budget_resets_at: datetime


def query_key(purpose: Purpose, canonical_text: str) -> str:
    return hashlib.sha256(f"{purpose.value}\n{canonical_text}".encode()).hexdigest()


def count_audience(
    session: WriteSession,
    runtime: Runtime,
    supplier_id: str,
    predicate: Node,
    purpose: Purpose,
    *,
    now: datetime | None = None,
) -> AudienceCount:
    """The noisy count of consenting customers matching `predicate`, for `purpose`, as a supplier sees it."""
    now = now or utcnow()
    settings = runtime.settings
    form = canonical(predicate)
    text = dump(form)
    categories = sorted(c.value for c in categories_of(predicate))
    key = query_key(purpose, text)
    period = budget.period_of(now, settings)
    look = repository.first_look(session, supplier_id, period.start, key)
    epoch = look.epoch
    k = settings.audience_min_cohort

    def cached(count: int | None, remaining_milli: int) -> AudienceCount:
        log_release(session, supplier_id, purpose, categories, count or 0, 0)
        return AudienceCount(
            count=count,
            suppressed=count is None,
            minimum_cohort=k,
            epsilon_charged=0.0,
            epsilon_remaining=remaining_milli / MILLI,
            cached=True,
            budget_resets_at=period.resets_at,
        )

    # A repeat spends nothing, so it needs no lock on the budget: counts of one supplier queue on that lock,
    # and holding it for answers that change nothing made every count wait for every other.
    if look.answered and look.answer_epoch == epoch:
        return cached(look.count, budget.remaining_of(settings, look.supplier_status, look.spent_milli))

    query = supplier_query(
        session,
        supplier_id=supplier_id,
        purpose=purpose,
        categories=categories_of(predicate),
        release_kind=ReleaseKind.AGGREGATE_COUNT,
        now=now,
    )
    # Counted before the lock, for the same reason: the true count is only released if charged below.
    true = repository.true_count(session, query, compile_where(form))
    ledger = budget.open_ledger(session, supplier_id, now, settings)
    # Under the lock, again: a twin of this query may have been answered while this one counted.
    stored = repository.answer(session, supplier_id, period.start, key)
    if stored is not None and stored.epoch == epoch:
        return cached(stored.count, ledger.remaining_milli)

    cost = round(settings.audience_epsilon * MILLI)
    budget.charge(session, ledger, cost, now, settings)
    noisy = noise.noisy_count(true, cost)
    # k applies to the noisy count: suppressing on the true count would itself leak it near the threshold.
    released = None if noisy < k else noisy
    row = AudienceAnswerRow(
        supplier_id=supplier_id,
        period_start=period.start,
        query_key=key,
        purpose=purpose.value,
        predicate=text,
        count=released,
        epsilon_milli=cost,
        epoch=epoch,
        created_at=now,
    )
    _remember(session, settings, row, stored)
    log_release(session, supplier_id, purpose, categories, released or 0, cost)
    return AudienceCount(
        count=released,
        suppressed=released is None,
        minimum_cohort=k,
        epsilon_charged=cost / MILLI,
        epsilon_remaining=ledger.remaining_milli / MILLI,
        cached=False,
        budget_resets_at=period.resets_at,
    )


def charge_offer_audience(
    session: WriteSession,
    runtime: Runtime,
    supplier_id: str,
    predicate: Node,
    purpose: Purpose,
    *,
    offer_id: str,
    now: datetime,
) -> int:
    """Charge an offer's audience as a fresh count query and check it for differencing; the cost in milli.

    An offer tells its supplier how many customers it reached, so its predicate is a count query: it
    spends `offer_epsilon` of the same budget (exhausted: `BudgetExhausted`, 429, with the budget-abuse
    strike), and is stored among the period's answers under a key of its own, so a pair of offers, or an
    offer and a count, that differ in one condition counts towards the differencing strike. Its released
    figures live with the offer (`offers.stats`), so the stored answer carries no count and is never
    served as a cached count (offer matching is gated for `offer_delivery`, not `aggregate_count`).
    Call it before writing anything of the offer: a refusal commits only its strike.
    """
    settings = runtime.settings
    ledger = budget.open_ledger(session, supplier_id, now, settings)
    cost = round(settings.offer_epsilon * MILLI)
    budget.charge(session, ledger, cost, now, settings)
    row = AudienceAnswerRow(
        supplier_id=supplier_id,
        period_start=ledger.period.start,
        query_key=hashlib.sha256(f"offer\n{offer_id}".encode()).hexdigest(),
        purpose=purpose.value,
        predicate=dump(canonical(predicate)),
        count=None,
        epsilon_milli=cost,
        epoch=current_epoch(session),
        created_at=now,
    )
    _remember(session, settings, row, None)
    return cost


def _remember(
    session: WriteSession, settings: Settings, row: AudienceAnswerRow, stale: AudienceAnswerRow | None
) -> None:
    """Store the released answer for repeats, and strike a supplier whose queries form differencing pairs.

    One strike when the period's pairs first exceed `threshold`: the pattern is recorded, not re-punished
    for every further query (the budget already stops those).
    """
    threshold = settings.audience_differencing_threshold
    earlier = [
        a
        for a in repository.answers_in_period(session, row.supplier_id, row.period_start)
        if a.query_key != row.query_key
    ]
    mine = conjuncts(json.loads(row.predicate))
    row.differencing_pairs = differencing.pairs_with(
        mine, (conjuncts(json.loads(a.predicate)) for a in earlier)
    )
    before = sum(a.differencing_pairs for a in earlier)
    if stale is not None:
        # An answer retired by a population change is replaced, keeping its key.
        session.delete(stale)
        session.flush()
    session.add(row)
    session.flush()
    if before <= threshold < before + row.differencing_pairs:
        sanctions.record_strike(
            session, settings, supplier_id=row.supplier_id, reason=DIFFERENCING_STRIKE_REASON
        )


def log_release(
    session: WriteSession,
    supplier_id: str,
    purpose: Purpose,
    categories: list[str],
    count: int,
    epsilon_milli: int,
) -> None:
    """One `release` entry of an aggregate answer: the released count (0 when none) and the epsilon spent."""
    append_at_commit(
        session,
        [
            {
                "kind": kinds.RELEASE,
                "supplier_id": supplier_id,
                "purpose": purpose.value,
                "categories": categories,
                "release": {
                    "kind": ReleaseKind.AGGREGATE_COUNT.value,
                    "categories": categories,
                    "count": count,
                    "epsilon_milli": epsilon_milli,
                },
            }
        ],
    )
