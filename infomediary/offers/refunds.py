"""Closing an offer: the supplier withdraws it, or it expires; either way its unspent budget goes back.

The refund is one ledger transaction from the broker (which has held the budget since the offer was sent)
to the supplier, keyed `refund` under the offer, on the offer row locked against concurrent rewards: an
offer is refunded once whatever the number of withdrawals, reads or settle runs, and the ledger still sums
to zero. A closed offer leaves every inbox and pays no further reward (`row_facts.is_open`).

Expiry needs no scheduler: an expired offer is settled when its supplier next reads or withdraws it, and
`infomediary offers settle` settles every expired one.

What the refund tells the supplier. Rewards are paid from the broker's escrow, never from the supplier's
account, so nothing a customer does while the offer runs moves (or times) anything in the supplier's
ledger; the refund is the one aggregate settlement, made when the offer closes. It closes only by
expiry (a time the supplier set) or withdrawal (a time the supplier chooses), never when its budget runs
out: closing then would time the reward that exhausted it. The amount is exact money, `budget_cap -
spent`, so it is an exact sum of the rewards paid over the offer's audience, which sending guarantees
has a noisy size of at least `audience_min_cohort` (`offers.service.create`). Residual, not covered by
differential privacy: that sum is exact, so with `reward_per_acceptance` 0 it is the exact number of
views (and likewise for acceptances); one closed offer shows it once, over at least about k customers,
but two offers whose audiences differ in one customer (a differencing pair, which the audience
machinery charges and strikes) would show that customer's actions by subtraction. Noising the refund
would close this at the cost of inexact money.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from infomediary.database import WriteSession, utcnow
from infomediary.ledger import service as ledger
from infomediary.ledger.models import TransactionKind
from infomediary.offers.models import OfferRow
from infomediary.offers.repository import own_offer

MAX_SETTLED_PER_RUN = 1000


def refund(session: WriteSession, offer: OfferRow, now: datetime) -> int:
    """Pay the unspent budget back to the supplier once; the credits refunded (0 if already refunded).

    The caller holds the offer row's lock.
    """
    if offer.refunded_at is not None:
        return 0
    amount = offer.budget_cap - offer.spent
    if amount > 0:
        ledger.post(
            session,
            kind=TransactionKind.OFFER_REFUND,
            postings=[(ledger.BROKER, -amount), (ledger.supplier(offer.supplier_id), amount)],
            # Keyed under the offer, like its rewards: no key a supplier sends can collide with it.
            idempotency_key="refund",
            initiator=f"offer:{offer.id}",
            # The supplier is credited here, never debited.
            credit_line=0,
            reference=offer.id,
            memo="unspent offer budget",
        )
    offer.refunded_at = now
    session.flush()
    return amount


def withdraw(session: WriteSession, supplier_id: str, offer_id: str, now: datetime | None = None) -> OfferRow:
    """Withdraw the supplier's own offer and refund what is left of its budget; repeating changes nothing."""
    now = now or utcnow()
    offer = own_offer(session, supplier_id, offer_id, lock=True)
    if offer.withdrawn_at is None and offer.refunded_at is None and offer.expires_at > now:
        offer.withdrawn_at = now
    refund(session, offer, now)
    return offer


def settle_if_closed(session: WriteSession, offer: OfferRow, now: datetime) -> None:
    """Refund an expired (or withdrawn but not yet refunded) offer; open offers are left alone."""
    if offer.refunded_at is None and (offer.expires_at <= now or offer.withdrawn_at is not None):
        session.refresh(offer, with_for_update=True)
        refund(session, offer, now)


def settle_expired(session: WriteSession, now: datetime | None = None) -> int:
    """Refund expired offers not yet refunded (at most `MAX_SETTLED_PER_RUN`); how many were settled."""
    now = now or utcnow()
    ids = session.scalars(
        select(OfferRow.id)
        .where(OfferRow.refunded_at.is_(None), OfferRow.expires_at <= now)
        .order_by(OfferRow.expires_at, OfferRow.id)
        .limit(MAX_SETTLED_PER_RUN)
    ).all()
    for offer_id in ids:
        offer = session.get(OfferRow, offer_id, with_for_update=True, populate_existing=True)
        if offer is not None:
            settle_if_closed(session, offer, now)
    return len(ids)
