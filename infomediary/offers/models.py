"""Offer tables: the offer as the supplier sent it, and one delivery row per matched customer.

Deliveries never leave the broker: a supplier reads only thresholded counts of them, and the released
identity of customers who accepted an identity-releasing offer (by its own pseudonym).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from infomediary.database import Base, utcnow


class DeliveryState(enum.StrEnum):
    DELIVERED = "delivered"
    VIEWED = "viewed"
    ACCEPTED = "accepted"
    DISMISSED = "dismissed"
    REPORTED = "reported"


class OfferRow(Base):
    """An offer: its content (no personal data), audience, rewards, business rule and budget."""

    __tablename__ = "offers"
    __table_args__ = (UniqueConstraint("supplier_id", "idempotency_key", name="uq_offers_idempotency"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    supplier_id: Mapped[str] = mapped_column(ForeignKey("suppliers.id", ondelete="CASCADE"), index=True)
    # The key the offer was created with: a repeated POST returns this offer instead of matching again.
    idempotency_key: Mapped[str] = mapped_column(String(200))
    # SHA-256 of what was sent: the same key with another offer is a conflict, not a replay.
    fingerprint: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    # The canonical audience predicate (the supplier's own query, no personal data).
    predicate: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(String(40))
    # Comma-separated category keys the predicate reads: the consent every delivery is gated on.
    categories: Mapped[str] = mapped_column(String(400))
    reward_per_view: Mapped[int] = mapped_column(BigInteger)
    reward_per_acceptance: Mapped[int] = mapped_column(BigInteger)
    releases_identity: Mapped[bool] = mapped_column(Boolean, default=False)
    # The business rule "an order over X earns discount Y", structured so the customer sees it exactly.
    min_order_amount: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    discount_percent: Mapped[int | None] = mapped_column(Integer)
    expires_at: Mapped[datetime]
    budget_cap: Mapped[int] = mapped_column(BigInteger)
    spent: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when the supplier withdraws the offer: it leaves every inbox and pays nothing more.
    withdrawn_at: Mapped[datetime | None]
    # Set when the unspent budget went back to the supplier (withdrawn or expired): the offer is closed.
    refunded_at: Mapped[datetime | None]
    # Set once customers' reports of this offer earned its supplier a strike: one strike per offer at most.
    report_strike: Mapped[bool] = mapped_column(Boolean, default=False)


class OfferDeliveryRow(Base):
    """One matched customer's copy of an offer and what they did with it."""

    __tablename__ = "offer_deliveries"
    __table_args__ = (UniqueConstraint("offer_id", "customer_id", name="uq_offer_deliveries_customer"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    offer_id: Mapped[str] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16), default=DeliveryState.DELIVERED.value)
    delivered_at: Mapped[datetime] = mapped_column(default=utcnow)
    viewed_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    identity_released: Mapped[bool] = mapped_column(Boolean, default=False)


class OfferStatsRow(Base):
    """The statistics last released for an offer: noisy, drawn again only on a schedule (`offers.stats`).

    Serving the stored draw in between is what stops averaging (re-reading gets the same answer). The true
    figures are not kept: nothing decides on them, so nothing can leak them by deciding.
    """

    __tablename__ = "offer_stats"

    offer_id: Mapped[str] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"), primary_key=True)
    noisy_delivered: Mapped[int] = mapped_column(Integer)
    noisy_viewed: Mapped[int] = mapped_column(Integer)
    noisy_accepted: Mapped[int] = mapped_column(Integer)
    epsilon_milli: Mapped[int] = mapped_column(Integer)
    drawn_at: Mapped[datetime] = mapped_column(default=utcnow)


class OfferReportRow(Base):
    """A customer's report of an offer as unwanted: one per customer and offer, never shown to suppliers."""

    __tablename__ = "offer_reports"
    __table_args__ = (
        UniqueConstraint("offer_id", "customer_id", name="uq_offer_reports_customer"),
        Index("ix_offer_reports_supplier_created", "supplier_id", "created_at"),
        Index("ix_offer_reports_customer_created", "customer_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # One of the two: the offer reported, or the relayed message reported through its mail's report link
    # (a supplier's mail counts toward its reports exactly like its offers).
    offer_id: Mapped[str | None] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"))
    relayed_message_id: Mapped[str | None] = mapped_column(
        ForeignKey("relayed_messages.id", ondelete="CASCADE"), unique=True
    )
    supplier_id: Mapped[str] = mapped_column(ForeignKey("suppliers.id", ondelete="CASCADE"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
