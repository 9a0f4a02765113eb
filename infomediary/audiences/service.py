"""Counting an audience: consent-gated, noisy, suppressed below k, charged to a budget, cached, logged.

A count releases no individual's data, so no per-customer `decision` entries are appended; each answer
(fresh, cached or suppressed) appends one `release` entry with the released count (0 when suppressed) and
the epsilon it spent, in the caller's transaction. The true count is never stored, logged or returned.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from pyroaring import BitMap

from consent.vocabulary import Purpose, ReleaseKind
from infomediary.audiences import accounting, budget, differencing, noise, repository
from infomediary.audiences.errors import DifferencingRefused
from infomediary.audiences.index import current_epoch
from infomediary.audiences.models import AudienceAnswerRow
from infomediary.audiences.noise import MILLI
from infomediary.audiences.predicate import Node, canonical, categories_of, compile_where, dump
from infomediary.audiences.standing import Standing
from infomediary.consents.decision_point import supplier_query
from infomediary.consents.declared_use import require_declared
from infomediary.database import WriteSession, utcnow
from infomediary.policylog import kinds
from infomediary.policylog.service import append_at_commit
from infomediary.runtime import Runtime
from infomediary.sanctions import service as sanctions
from infomediary.settings import Settings

DIFFERENCING_STRIKE_REASON = (
    "differencing pattern: an audience query whose customers differ from a recent query's by fewer than k"
)


@dataclass(frozen=True)
class AudienceCount:
    count: int | None
    suppressed: bool
    minimum_cohort: int
    epsilon_charged: float
    epsilon_remaining: float
    cached: bool
    budget_resets_at: datetime

    @property
    def standing(self) -> Standing:
        return Standing(round(self.epsilon_remaining * MILLI), self.budget_resets_at)


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
    # First: an undeclared purpose or category is refused before any answer is served, cached or charged.
    require_declared(
        session,
        settings,
        supplier_id,
        purpose=purpose,
        categories=categories_of(predicate),
        release_kind=ReleaseKind.AGGREGATE_COUNT,
        now=now,
    )
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
    # Read before the lock, for the same reason: only the admitted customers' count is released, if charged.
    matched = repository.members(session, query, compile_where(form))
    ledger = budget.open_ledger(session, supplier_id, now, settings)
    # Under the lock, again: a twin of this query may have been answered while this one counted.
    stored = repository.answer(session, supplier_id, period.start, key)
    if stored is not None and stored.epoch == epoch:
        return cached(stored.count, ledger.remaining_milli)

    cost = round(settings.audience_epsilon * MILLI)
    budget.charge(session, ledger, cost, now)
    counted = accounting.admit(
        session,
        settings,
        supplier_id=supplier_id,
        kind=accounting.AGGREGATE_COUNT,
        epsilon_milli=cost,
        members=matched,
        now=now,
    )
    _refuse_differencing(session, settings, supplier_id, period.start, key, counted)
    true = len(counted)
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
        members=counted.serialize(),
        created_at=now,
    )
    _remember(session, row, stored)
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
    charge_customers: bool = False,
) -> int:
    """Charge an offer's audience as a fresh count query and check it for differencing; the cost in milli.

    An offer tells its supplier how many customers it reached, so its predicate is a count query: it
    spends `offer_epsilon` of the same budget (exhausted: `BudgetExhausted`, 429, with no strike: no
    abuse), and is checked for differencing and stored among the period's answers under a key of its
    own, so a pair of offers, or an offer and a count, whose customers differ by fewer than k is refused.
    Its released figures live with the offer (`offers.stats`), so the stored answer carries no count and
    is never served as a cached count (offer matching is gated for `offer_delivery`, not `aggregate_count`).
    Call it before writing anything of the offer: a refusal leaves nothing of it but its strike.
    """
    settings = runtime.settings
    key = hashlib.sha256(f"offer\n{offer_id}".encode()).hexdigest()
    query = supplier_query(
        session,
        supplier_id=supplier_id,
        purpose=purpose,
        categories=categories_of(predicate),
        release_kind=ReleaseKind.AGGREGATE_COUNT,
        now=now,
    )
    matched = repository.members(session, query, compile_where(canonical(predicate)))
    ledger = budget.open_ledger(session, supplier_id, now, settings)
    cost = round(settings.offer_epsilon * MILLI)
    budget.charge(session, ledger, cost, now)
    # The figure this charge pays for is the offer's first statistics release (`offers.stats.release`),
    # which admits and charges the delivered customers individually; charging them here too would count
    # one release twice. Unless that release is gone: an offer refused for its small audience keeps only
    # this charge (`charge_customers`), and its customers pay for the draw the refusal told of.
    if charge_customers:
        matched = accounting.admit(
            session,
            settings,
            supplier_id=supplier_id,
            kind=accounting.OFFER_STATISTICS,
            epsilon_milli=cost,
            members=matched,
            now=now,
        )
    _refuse_differencing(session, settings, supplier_id, ledger.period.start, key, matched)
    row = AudienceAnswerRow(
        supplier_id=supplier_id,
        period_start=ledger.period.start,
        query_key=key,
        purpose=purpose.value,
        predicate=dump(canonical(predicate)),
        count=None,
        epsilon_milli=cost,
        epoch=current_epoch(session),
        members=matched.serialize(),
        created_at=now,
    )
    _remember(session, row, None)
    return cost


def _refuse_differencing(
    session: WriteSession,
    settings: Settings,
    supplier_id: str,
    period_start: datetime,
    key: str,
    counted: BitMap,
) -> None:
    """Refuse (`DifferencingRefused`, recording a strike) an answer whose customers differ from those of one
    of the supplier's recent answers of the period (other than `key`'s) by 1 to k-1.

    Called once the answer's customers are final (admitted by the privacy filter): the refusal rolls back
    the charge and the admission with everything else. Offers and counts share the window: an offer's
    audience differenced against a count isolates as well.
    """
    recent = repository.recent_members(
        session, supplier_id, period_start, settings.audience_differencing_window, besides=key
    )
    k = settings.audience_min_cohort
    if differencing.first_differencing(differencing.differences(counted, recent), k) is not None:
        raise DifferencingRefused(k=k).recording(
            lambda record_in: sanctions.record_strike(
                record_in, settings, supplier_id=supplier_id, reason=DIFFERENCING_STRIKE_REASON
            )
        )


def _remember(session: WriteSession, row: AudienceAnswerRow, stale: AudienceAnswerRow | None) -> None:
    """Store the released answer, for repeats and as one of the recent queries later counts are compared
    with for differencing."""
    if stale is not None:
        # An answer retired by a population change is replaced, keeping its key.
        session.delete(stale)
        session.flush()
    session.add(row)
    session.flush()


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
