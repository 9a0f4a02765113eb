"""Matching an offer to consenting customers: all at once when it is sent, and late, at the inbox.

At sending, the predicate runs over `audience_index`, gated by the consent set filter for release kind
`offer_delivery`. A customer who grants the consent (or whose profile enters the predicate) later is
matched when they next read their inbox: the offers still open (not expired, withdrawn, refunded or out of
budget, their supplier not suspended) are tested against their own index row, then decided by the decision
point with the customer's consents read once for all of them (`evaluate_each`); a permitted match is
delivered and logged, its decision with a `release` entry like the one written at sending, in one append.
A refusal is not logged, as at sending. The supplier learns of late matches only through its offer's noisy
statistics (`offers.stats`), redrawn on a schedule that does not depend on them, and its refund at close.

Late matching only ever adds customers to an offer whose noisy audience passed the minimum cohort when it
was sent (`offers.service.create` refuses the others, delivering nothing), so no offer starts small and
gathers its audience one customer at a time: a late match is one more customer in a crowd of about k or
more, never the first.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, exists, insert, select
from sqlalchemy.orm import Session

from consent.vocabulary import Purpose, ReleaseKind
from infomediary.audiences.models import AudienceIndexRow
from infomediary.audiences.predicate import Canonical, compile_where
from infomediary.consents import repository as consents
from infomediary.consents.decision_point import evaluate_each, supplier_query
from infomediary.consents.entries import decision_entry
from infomediary.consents.set_filter import permits
from infomediary.database import WriteSession
from infomediary.offers.models import DeliveryState, OfferDeliveryRow, OfferRow
from infomediary.offers.row_facts import categories, exhausted
from infomediary.policylog import kinds
from infomediary.policylog.service import append_many
from infomediary.runtime import Runtime
from infomediary.suppliers.models import Supplier, SupplierStatus

# Open offers examined per inbox read, newest first: bounds the work a read can cause.
MAX_LATE_CANDIDATES = 50


def _deliver(session: WriteSession, offer_id: str, customer_ids: Sequence[str], now: datetime) -> None:
    if customer_ids:
        session.execute(
            insert(OfferDeliveryRow),
            [
                {
                    "offer_id": offer_id,
                    "customer_id": customer_id,
                    "state": DeliveryState.DELIVERED.value,
                    "delivered_at": now,
                    "identity_released": False,
                }
                for customer_id in customer_ids
            ],
        )


def match_at_send(session: WriteSession, offer: OfferRow, form: Canonical, now: datetime) -> int:
    """Deliver the offer to every consenting customer its predicate matches; how many (never released)."""
    query = supplier_query(
        session,
        supplier_id=offer.supplier_id,
        purpose=Purpose(offer.purpose),
        categories=categories(offer),
        release_kind=ReleaseKind.OFFER_DELIVERY,
        now=now,
    )
    policy = consents.policy_in_force(session, offer.supplier_id, now)
    matched = session.scalars(
        select(AudienceIndexRow.customer_id).where(
            compile_where(form), permits(AudienceIndexRow.customer_id, query, policy, correlated=True)
        )
    ).all()
    _deliver(session, offer.id, matched, now)
    return len(matched)


def open_offers_not_delivered_to(session: Session, customer_id: str, now: datetime) -> Sequence[OfferRow]:
    delivered = exists().where(
        OfferDeliveryRow.offer_id == OfferRow.id, OfferDeliveryRow.customer_id == customer_id
    )
    return session.scalars(
        select(OfferRow)
        .join(Supplier, Supplier.id == OfferRow.supplier_id)
        .where(
            OfferRow.expires_at > now,
            OfferRow.withdrawn_at.is_(None),
            OfferRow.refunded_at.is_(None),
            Supplier.status != SupplierStatus.SUSPENDED.value,
            # Still able to pay its larger reward (`row_facts.exhausted`), so spent offers take no
            # candidate slot.
            OfferRow.spent
            + case(
                (OfferRow.reward_per_view > OfferRow.reward_per_acceptance, OfferRow.reward_per_view),
                else_=OfferRow.reward_per_acceptance,
            )
            <= OfferRow.budget_cap,
            ~delivered,
        )
        .order_by(OfferRow.created_at.desc(), OfferRow.id)
        .limit(MAX_LATE_CANDIDATES)
    ).all()


def match_late(session: WriteSession, runtime: Runtime, customer_id: str, now: datetime) -> int:
    """Deliver to this customer the open offers they now match and consent to; how many were delivered."""
    if session.get(AudienceIndexRow, customer_id) is None:
        # Not countable at all (no profile, processing restricted, or erased): nothing can match.
        return 0
    # The predicate first: one small statement per offer against the customer's own index row.
    matching = [
        offer
        for offer in open_offers_not_delivered_to(session, customer_id, now)
        if not exhausted(offer) and _predicate_matches(session, customer_id, offer)
    ]
    queries = [
        supplier_query(
            session,
            supplier_id=offer.supplier_id,
            purpose=Purpose(offer.purpose),
            categories=categories(offer),
            release_kind=ReleaseKind.OFFER_DELIVERY,
            now=now,
        )
        for offer in matching
    ]
    # Then the decision point, for all of them with the customer's consents read once. Only a permitted
    # match is logged (its decision and the release): a refusal is not, so offers the customer does not
    # consent to leave no log entry on every inbox read, as at sending, where the set filter (the same
    # rules over many customers) leaves none either.
    entries: list[dict[str, Any]] = []
    delivered = 0
    for offer, query, decision in zip(
        matching, queries, evaluate_each(session, customer_id, queries), strict=True
    ):
        if not decision.permitted:
            continue
        _deliver(session, offer.id, [customer_id], now)
        shown = sorted(c.value for c in categories(offer))
        entries.append(decision_entry(runtime, customer_id, query, decision))
        entries.append(
            {
                "kind": kinds.RELEASE,
                "supplier_id": offer.supplier_id,
                "purpose": offer.purpose,
                "categories": shown,
                # Nothing is told to the supplier now: its statistics take the match in at their next
                # (noisy, budget-charged) release.
                "release": {
                    "kind": ReleaseKind.OFFER_DELIVERY.value,
                    "categories": shown,
                    "count": 0,
                    "epsilon_milli": 0,
                },
                "details": {"offer_id": offer.id, "late_matches": 1},
            }
        )
        delivered += 1
    if entries:
        append_many(session, entries)
    return delivered


def _predicate_matches(session: Session, customer_id: str, offer: OfferRow) -> bool:
    form: Canonical = json.loads(offer.predicate)
    found = session.scalar(
        select(AudienceIndexRow.customer_id).where(
            AudienceIndexRow.customer_id == customer_id, compile_where(form)
        )
    )
    return found is not None
