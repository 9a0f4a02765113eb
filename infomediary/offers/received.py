"""Offers as the customer receives them: list, view (paid once), accept, dismiss (reports: `offers.reports`);
and every offer ever delivered to her, for her export.

Consent is decided again at every read and action, not only at matching: a customer who withdrew consent
for the offer's purpose or categories no longer sees it (or can be paid through it) from the next request.
Rewards are paid through the ledger from the offer's budget (held by the broker since the offer was sent),
keyed per (offer, customer, action) so a repeat never pays twice, and only while the budget covers them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent.records import ConsentState
from consent.vocabulary import Purpose, ReleaseKind
from infomediary.consents import service as consents
from infomediary.consents.decision_point import decide_for, evaluate, supplier_query
from infomediary.database import WriteSession, utcnow
from infomediary.ledger import service as ledger
from infomediary.ledger.models import TransactionKind
from infomediary.offers import identity, matching
from infomediary.offers.errors import (
    IdentityReleaseConfirmationRequired,
    IdentityReleaseRefused,
    OfferBudgetExhausted,
    OfferNotFound,
)
from infomediary.offers.models import DeliveryState, OfferDeliveryRow, OfferRow
from infomediary.offers.row_facts import categories, exhausted, is_open
from infomediary.runtime import Runtime
from infomediary.suppliers.models import Supplier

# States in which the offer is still in the customer's inbox (an accepted one stays, as a record of it).
SHOWN = (DeliveryState.DELIVERED.value, DeliveryState.VIEWED.value, DeliveryState.ACCEPTED.value)
MAX_LISTED = 100


@dataclass(frozen=True)
class InboxOffer:
    """An offer as its customer sees it: who sends it, what it says, what it pays, what it releases."""

    id: str
    supplier_id: str
    supplier_name: str
    content: str
    purpose: str
    reward_per_view: int
    reward_per_acceptance: int
    releases_identity: bool
    min_order_amount: int | None
    currency: str | None
    discount_percent: int | None
    expires_at: datetime
    state: str
    delivered_at: datetime
    viewed_at: datetime | None
    accepted_at: datetime | None


def _view(offer: OfferRow, delivery: OfferDeliveryRow, supplier_name: str) -> InboxOffer:
    return InboxOffer(
        id=offer.id,
        supplier_id=offer.supplier_id,
        supplier_name=supplier_name,
        content=offer.content,
        purpose=offer.purpose,
        reward_per_view=offer.reward_per_view,
        reward_per_acceptance=offer.reward_per_acceptance,
        releases_identity=offer.releases_identity,
        min_order_amount=offer.min_order_amount,
        currency=offer.currency,
        discount_percent=offer.discount_percent,
        expires_at=offer.expires_at,
        state=delivery.state,
        delivered_at=delivery.delivered_at,
        viewed_at=delivery.viewed_at,
        accepted_at=delivery.accepted_at,
    )


def _shown(
    session: Session, customer_id: str, offer: OfferRow, delivery: OfferDeliveryRow, now: datetime
) -> bool:
    if delivery.state not in SHOWN or not is_open(offer, now):
        return False
    if delivery.state != DeliveryState.ACCEPTED.value and exhausted(offer):
        return False
    query = supplier_query(
        session,
        supplier_id=offer.supplier_id,
        purpose=Purpose(offer.purpose),
        categories=categories(offer),
        release_kind=ReleaseKind.OFFER_DELIVERY,
        now=now,
    )
    # A check of what to show, not a release: nothing leaves the broker, so it is not logged.
    return evaluate(session, customer_id, query).permitted


def list_offers(
    session: WriteSession, runtime: Runtime, customer_id: str, now: datetime | None = None
) -> list[InboxOffer]:
    """The customer's offers still shown, newest first, after matching the open offers sent before they
    consented (or entered the audience): the inbox, which writes the late deliveries."""
    now = now or utcnow()
    matching.match_late(session, runtime, customer_id, now)
    return shown_offers(session, customer_id, now)


def shown_offers(session: Session, customer_id: str, now: datetime | None = None) -> list[InboxOffer]:
    """The customer's offers already delivered and still shown, newest first; no late matching, so it only
    reads (a glance, such as the dashboard's, not the inbox)."""
    now = now or utcnow()
    rows = session.execute(
        select(OfferRow, OfferDeliveryRow, Supplier.name)
        .join(OfferDeliveryRow, OfferDeliveryRow.offer_id == OfferRow.id)
        .join(Supplier, Supplier.id == OfferRow.supplier_id)
        .where(
            OfferDeliveryRow.customer_id == customer_id,
            OfferDeliveryRow.state.in_(SHOWN),
            OfferRow.expires_at > now,
            OfferRow.withdrawn_at.is_(None),
            OfferRow.refunded_at.is_(None),
        )
        .order_by(OfferDeliveryRow.delivered_at.desc(), OfferDeliveryRow.id.desc())
        .limit(MAX_LISTED)
    ).all()
    return [_view(o, d, name) for o, d, name in rows if _shown(session, customer_id, o, d, now)]


@dataclass(frozen=True)
class Delivered:
    """An offer delivered to the customer, whatever became of it: what her export holds of her offers."""

    delivery_id: int
    offer: InboxOffer
    categories: list[str]
    answered_at: datetime | None
    identity_released: bool
    withdrawn_at: datetime | None


def delivered(session: Session, customer_id: str, *, after: int = 0, limit: int) -> list[Delivered]:
    """Every offer delivered to the customer, in delivery order, after delivery `after`: dismissed, reported,
    expired and withdrawn ones too, unlike the inbox, which shows only what she can still act on."""
    rows = session.execute(
        select(OfferRow, OfferDeliveryRow, Supplier.name)
        .join(OfferDeliveryRow, OfferDeliveryRow.offer_id == OfferRow.id)
        .join(Supplier, Supplier.id == OfferRow.supplier_id)
        .where(OfferDeliveryRow.customer_id == customer_id, OfferDeliveryRow.id > after)
        .order_by(OfferDeliveryRow.id)
        .limit(limit)
    ).all()
    return [
        Delivered(
            delivery_id=d.id,
            offer=_view(o, d, name),
            categories=sorted(c.value for c in categories(o)),
            answered_at=d.answered_at,
            identity_released=d.identity_released,
            withdrawn_at=o.withdrawn_at,
        )
        for o, d, name in rows
    ]


def own(
    session: WriteSession, customer_id: str, offer_id: str, now: datetime
) -> tuple[OfferRow, OfferDeliveryRow, str]:
    """The customer's shown offer, locked: concurrent actions on one offer's budget run one at a time."""
    offer = session.get(OfferRow, offer_id, with_for_update=True)
    delivery = session.scalar(
        select(OfferDeliveryRow)
        .where(OfferDeliveryRow.offer_id == offer_id, OfferDeliveryRow.customer_id == customer_id)
        .with_for_update()
    )
    # Another customer's offer, or one no longer shown, reads as missing.
    if offer is None or delivery is None or not _shown(session, customer_id, offer, delivery, now):
        raise OfferNotFound()
    name = session.scalar(select(Supplier.name).where(Supplier.id == offer.supplier_id)) or ""
    return offer, delivery, name


def _pay(
    session: WriteSession,
    offer: OfferRow,
    customer_id: str,
    kind: TransactionKind,
    amount: int,
    action: str,
) -> None:
    """Pay `amount` to the customer from the offer's budget (held by the broker)."""
    if amount == 0:
        return
    if offer.spent + amount > offer.budget_cap:
        raise OfferBudgetExhausted(
            f"the offer has {offer.budget_cap - offer.spent} credits left of its budget"
        )
    ledger.post(
        session,
        kind=kind,
        postings=[(ledger.BROKER, -amount), (ledger.customer(customer_id), amount)],
        # Keyed under the offer, not the supplier: no key a supplier sends elsewhere can collide with it.
        idempotency_key=f"{action}:{customer_id}",
        initiator=f"offer:{offer.id}",
        # Only suppliers are held to a credit line, and none is debited here.
        credit_line=0,
        reference=offer.id,
        memo=f"offer {action}",
    )
    offer.spent += amount


def view(session: WriteSession, runtime: Runtime, customer_id: str, offer_id: str) -> InboxOffer:
    """Mark the offer viewed; the first view is paid `reward_per_view`."""
    now = utcnow()
    offer, delivery, name = own(session, customer_id, offer_id, now)
    if delivery.viewed_at is None:
        _pay(session, offer, customer_id, TransactionKind.VIEW_REWARD, offer.reward_per_view, "view")
        delivery.viewed_at = now
        if delivery.state == DeliveryState.DELIVERED.value:
            delivery.state = DeliveryState.VIEWED.value
    session.flush()
    return _view(offer, delivery, name)


def accept(
    session: WriteSession,
    runtime: Runtime,
    customer_id: str,
    offer_id: str,
    *,
    release_identity: bool,
    reauthenticate: Callable[[], None],
    on_leaving: consents.OnLeaving,
) -> tuple[InboxOffer, bool]:
    """Accept the offer (paid `reward_per_acceptance` once); an identity-releasing one needs confirmation,
    and `reauthenticate()` (the customer's password again: a stolen session must not release an identity),
    which raises to refuse before anything is granted.

    The confirmation records a grant of identity and contact naming the supplier for the offer's purpose,
    then decides the release with `decide_for` (logged): a standing term that forbids it refuses the whole
    acceptance, which rolls back. Returns the offer and whether this call accepted it (a repeat changes
    nothing; `flows.offer_accepted` tells the supplier only once).
    """
    now = utcnow()
    offer, delivery, name = own(session, customer_id, offer_id, now)
    if delivery.state == DeliveryState.ACCEPTED.value:
        return _view(offer, delivery, name), False
    if offer.releases_identity:
        if not release_identity:
            raise IdentityReleaseConfirmationRequired(
                "this offer releases your name and email to the supplier; send release_identity: true"
            )
        reauthenticate()
        consents.answer(
            session,
            runtime,
            customer_id,
            state=ConsentState.GIVEN,
            supplier_id=offer.supplier_id,
            purpose=Purpose(offer.purpose),
            categories=sorted(identity.CATEGORIES),
            reason="granted by accepting an offer that releases identity",
            now=now,
            on_leaving=on_leaving,
        )
        query = supplier_query(
            session,
            supplier_id=offer.supplier_id,
            purpose=Purpose(offer.purpose),
            categories=identity.CATEGORIES,
            release_kind=ReleaseKind.IDENTITY_RELEASE,
            now=now,
        )
        if not decide_for(session, runtime, customer_id, query).permitted:
            raise IdentityReleaseRefused()
        delivery.identity_released = True
    _pay(
        session,
        offer,
        customer_id,
        TransactionKind.ACCEPTANCE_REWARD,
        offer.reward_per_acceptance,
        "accept",
    )
    delivery.state = DeliveryState.ACCEPTED.value
    delivery.accepted_at = delivery.answered_at = now
    session.flush()
    return _view(offer, delivery, name), True


def dismiss(session: WriteSession, customer_id: str, offer_id: str) -> None:
    """Remove the offer from the inbox; nothing is paid and the supplier learns nothing of it."""
    now = utcnow()
    _, delivery, _ = own(session, customer_id, offer_id, now)
    if delivery.state == DeliveryState.ACCEPTED.value:
        raise OfferNotFound("an accepted offer cannot be dismissed")
    delivery.state = DeliveryState.DISMISSED.value
    delivery.answered_at = now
    session.flush()
