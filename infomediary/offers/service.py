"""The supplier's side of offers: send one (matched at once by the broker), read its noisy reach, withdraw it.

An offer's audience is a count query: sending one charges the supplier's epsilon budget and is checked for
differencing like an audience count (`audiences.service.charge_offer_audience`); matching
(`offers.matching`) never lets the matched customers leave the broker; the supplier reads only noisy,
scheduled, k-suppressed statistics (`offers.stats`), whose first release is logged as the sending. That
first release is also the gate: an offer whose noisy audience is below `audience_min_cohort` is refused
and delivers nothing, but its count stays charged (`_refused_audience`).

The whole budget is paid to the broker when the offer is sent, and rewards are paid from there: were each
reward debited from the supplier, its own ledger would count (and time) every view and acceptance, which
the thresholded stats withhold.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent.vocabulary import Purpose, ReleaseKind
from infomediary.audiences import budget
from infomediary.audiences import service as audiences
from infomediary.audiences.errors import BudgetExhausted
from infomediary.audiences.noise import MILLI
from infomediary.audiences.predicate import Node, canonical, categories_of, dump
from infomediary.consents import repository as consents
from infomediary.consents.declared_use import require_declared
from infomediary.database import WriteSession, utcnow
from infomediary.ids import new_id
from infomediary.ledger import service as ledger
from infomediary.ledger.errors import IdempotencyKeyRequired, IdempotencyKeyReused
from infomediary.ledger.models import TransactionKind
from infomediary.offers import identity, matching, refunds, stats
from infomediary.offers.errors import InvalidOffer, OfferAudienceTooSmall
from infomediary.offers.models import OfferRow
from infomediary.offers.repository import own_offer
from infomediary.runtime import Runtime


@dataclass(frozen=True)
class OfferDraft:
    """An offer as the supplier sends it (already validated for shape by the API)."""

    content: str
    predicate: Node
    purpose: Purpose
    reward_per_view: int
    reward_per_acceptance: int
    releases_identity: bool
    expires_at: datetime
    budget_cap: int
    min_order_amount: int | None = None
    currency: str | None = None
    discount_percent: int | None = None


@dataclass(frozen=True)
class SupplierOffer:
    """An offer as its supplier reads it: its terms, thresholded stats, and identities released to it."""

    id: str
    purpose: str
    expires_at: datetime
    budget_cap: int
    created_at: datetime
    withdrawn_at: datetime | None
    refunded_at: datetime | None
    stats: stats.OfferStats
    identities: list[identity.ReleasedIdentity]


@dataclass(frozen=True)
class OfferSummary:
    """One line of a supplier's list of its offers: terms and thresholded stats, no identities."""

    id: str
    content: str
    purpose: str
    reward_per_view: int
    reward_per_acceptance: int
    releases_identity: bool
    expires_at: datetime
    budget_cap: int
    created_at: datetime
    stats: stats.OfferStats


@dataclass(frozen=True)
class OfferPage:
    offers: list[OfferSummary]
    next_cursor: str | None


def fingerprint(draft: OfferDraft) -> str:
    """SHA-256 of the draft, its predicate in canonical form (one spelling per predicate)."""
    content = {f.name: getattr(draft, f.name) for f in fields(draft)}
    content["predicate"] = dump(canonical(draft.predicate))
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def create(
    session: WriteSession,
    runtime: Runtime,
    supplier_id: str,
    draft: OfferDraft,
    *,
    idempotency_key: str | None,
    now: datetime | None = None,
) -> SupplierOffer:
    """Store the offer and deliver it to every consenting customer its predicate matches, at once.

    A repeated Idempotency-Key returns the offer it created, unmatched again: the budget is committed once.
    Raises `OfferAudienceTooSmall` when the noisy audience is below k; the request then keeps only the
    charge (and log entry) of its count.
    """
    now = now or utcnow()
    if not idempotency_key:
        raise IdempotencyKeyRequired("an offer commits a budget: send an Idempotency-Key header")
    existing = session.scalar(
        select(OfferRow).where(
            OfferRow.supplier_id == supplier_id, OfferRow.idempotency_key == idempotency_key
        )
    )
    if existing is not None:
        if existing.fingerprint != fingerprint(draft):
            raise IdempotencyKeyReused(f"Idempotency-Key {idempotency_key!r} was used for another offer")
        return read(session, runtime, supplier_id, existing.id)
    if draft.expires_at <= now:
        raise InvalidOffer("expires_at must be in the future")
    asked = categories_of(draft.predicate)
    # Before anything is charged or written: an offer over an undeclared purpose or category is refused.
    require_declared(
        session,
        runtime.settings,
        supplier_id,
        purpose=draft.purpose,
        categories=asked,
        release_kind=ReleaseKind.OFFER_DELIVERY,
        now=now,
    )
    policy = consents.policy_in_force(session, supplier_id, now)
    if draft.releases_identity and not policy.policy.categories >= identity.CATEGORIES:
        raise InvalidOffer("an identity-releasing offer needs identity and contact in your published policy")
    offer_id = new_id("off")
    # First, before anything of the offer is written: a refused charge leaves nothing of it.
    cost = audiences.charge_offer_audience(
        session, runtime, supplier_id, draft.predicate, draft.purpose, offer_id=offer_id, now=now
    )
    form = canonical(draft.predicate)
    row = OfferRow(
        id=offer_id,
        supplier_id=supplier_id,
        idempotency_key=idempotency_key,
        fingerprint=fingerprint(draft),
        content=draft.content,
        predicate=dump(form),
        purpose=draft.purpose.value,
        categories=",".join(sorted(c.value for c in asked)),
        reward_per_view=draft.reward_per_view,
        reward_per_acceptance=draft.reward_per_acceptance,
        releases_identity=draft.releases_identity,
        min_order_amount=draft.min_order_amount,
        currency=draft.currency,
        discount_percent=draft.discount_percent,
        expires_at=draft.expires_at,
        budget_cap=draft.budget_cap,
        spent=0,
        created_at=now,
        report_strike=False,
    )
    session.add(row)
    session.flush()
    if draft.budget_cap > 0:
        ledger.post(
            session,
            kind=TransactionKind.OFFER_BUDGET,
            postings=[(ledger.supplier(supplier_id), -draft.budget_cap), (ledger.BROKER, draft.budget_cap)],
            idempotency_key=idempotency_key,
            initiator=f"supplier:{supplier_id}",
            credit_line=runtime.settings.supplier_credit_line,
            reference=row.id,
            memo="offer budget",
        )
    matching.match_at_send(session, row, form, now)
    first = stats.first_release(session, runtime, row, cost, now)
    k = runtime.settings.audience_min_cohort
    # On the noisy audience, as every k here: refusing on the true one would leak it near the threshold.
    if first.noisy_audience < k:
        raise OfferAudienceTooSmall(
            f"the offer's audience, counted with noise, is below the minimum cohort of {k}: nothing was "
            "sent and no budget committed, but the count was charged",
            minimum_cohort=k,
            epsilon_charged=cost / MILLI,
        ).recording(_refused_audience(runtime, supplier_id, draft, offer_id, cost, now))
    return _supplier_offer(row, first.stats, identity.released_to_supplier(session, runtime, row))


def _refused_audience(
    runtime: Runtime, supplier_id: str, draft: OfferDraft, offer_id: str, cost: int, now: datetime
) -> Callable[[WriteSession], None]:
    """What a refusal for a small audience keeps once the offer is rolled back: its count's charge, to the
    supplier and to each customer counted (`charge_customers`), and its log entry.

    A refused attempt is not free: its noisy count was drawn and its refusal tells the supplier the count
    fell below k, so were the charge rolled back with the offer, refusals would be an unlimited, free
    oracle on audiences near the threshold.
    """

    def record(session: WriteSession) -> None:
        try:
            audiences.charge_offer_audience(
                session,
                runtime,
                supplier_id,
                draft.predicate,
                draft.purpose,
                offer_id=offer_id,
                now=now,
                charge_customers=True,
            )
        except BudgetExhausted:
            # Spent in the moment between the rollback and this record: the count is owed all the same.
            budget.spend_owed(session, supplier_id, cost, now, runtime.settings)
        stats.log_release(
            session,
            supplier_id=supplier_id,
            purpose=draft.purpose.value,
            categories=",".join(sorted(c.value for c in categories_of(draft.predicate))),
            offer_id=offer_id,
            told=0,
            epsilon_milli=cost,
            kind=ReleaseKind.AGGREGATE_COUNT,
            refused="offer audience below the minimum cohort",
        )

    return record


def _supplier_offer(
    row: OfferRow, released: stats.OfferStats, identities: list[identity.ReleasedIdentity]
) -> SupplierOffer:
    return SupplierOffer(
        id=row.id,
        purpose=row.purpose,
        expires_at=row.expires_at,
        budget_cap=row.budget_cap,
        created_at=row.created_at,
        withdrawn_at=row.withdrawn_at,
        refunded_at=row.refunded_at,
        stats=released,
        identities=identities,
    )


def read(session: WriteSession, runtime: Runtime, supplier_id: str, offer_id: str) -> SupplierOffer:
    """The offer's noisy stats and the identities its accepting customers released to this supplier.

    Reading an offer that expired settles it: its unspent budget is refunded (once).
    """
    now = utcnow()
    row = own_offer(session, supplier_id, offer_id)
    refunds.settle_if_closed(session, row, now)
    released = stats.released(session, runtime, row, now)
    return _supplier_offer(row, released, identity.released_to_supplier(session, runtime, row))


def withdraw(session: WriteSession, runtime: Runtime, supplier_id: str, offer_id: str) -> SupplierOffer:
    """Withdraw the supplier's offer: it leaves every inbox and its unspent budget is refunded once."""
    refunds.withdraw(session, supplier_id, offer_id)
    return read(session, runtime, supplier_id, offer_id)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _offer_cursor(value: str | None) -> tuple[datetime, str] | None:
    """`<microseconds since the epoch>.<offer id>`: URL-safe as it is. Opaque to callers; a malformed one
    starts from the newest offer rather than failing."""
    micros, _, offer_id = (value or "").partition(".")
    if not micros.isdigit() or not offer_id or len(micros) > 18:
        return None
    return _EPOCH + timedelta(microseconds=int(micros)), offer_id


def _cursor_of(row: OfferRow) -> str:
    return f"{(row.created_at - _EPOCH) // timedelta(microseconds=1)}.{row.id}"


def list_own(
    session: Session, runtime: Runtime, supplier_id: str, *, cursor: str | None, limit: int
) -> OfferPage:
    """This supplier's offers, newest first, each with the stats it was last told (one query per page)."""
    query = select(OfferRow).where(OfferRow.supplier_id == supplier_id)
    after = _offer_cursor(cursor)
    if after is not None:
        at, offer_id = after
        query = query.where(
            (OfferRow.created_at < at) | ((OfferRow.created_at == at) & (OfferRow.id < offer_id))
        )
    rows = list(
        session.scalars(query.order_by(OfferRow.created_at.desc(), OfferRow.id.desc()).limit(limit + 1))
    )
    page = rows[:limit]
    told = stats.stored_many(session, [r.id for r in page], runtime.settings.offer_min_cohort)
    offers = [
        OfferSummary(
            id=r.id,
            content=r.content,
            purpose=r.purpose,
            reward_per_view=r.reward_per_view,
            reward_per_acceptance=r.reward_per_acceptance,
            releases_identity=r.releases_identity,
            expires_at=r.expires_at,
            budget_cap=r.budget_cap,
            created_at=r.created_at,
            stats=told[r.id],
        )
        for r in page
    ]
    last = page[-1] if page and len(rows) > limit else None
    return OfferPage(offers, _cursor_of(last) if last else None)
