"""Webhook tables: a supplier's endpoints, the outbox of events, and one delivery row per event and endpoint.

An event row names the customer it is about (so consent can be decided again at delivery time and a
withdrawal can drop it) but that id never leaves the broker: the body sent to a supplier is built at delivery
time and carries only that supplier's own pseudonym. Endpoint secrets are stored wrapped by the vault's
key-encryption key, never in clear.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from infomediary.database import Base, utcnow


class DeliveryState(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # every attempt up to the limit failed
    DROPPED = "dropped"  # not sent: consent no longer permits it, or the customer left


class WebhookEndpointRow(Base):
    """A URL a supplier receives events at, which event types, and its signing secret (wrapped)."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    supplier_id: Mapped[str] = mapped_column(ForeignKey("suppliers.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    event_types: Mapped[list[Any]] = mapped_column(JSON)
    description: Mapped[str | None] = mapped_column(String(200))
    # WrappedKey.to_bytes() of the 32-byte HMAC secret, bound to the endpoint id as associated data.
    secret_wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    kek_version: Mapped[int] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    secret_rotated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookEventRow(Base):
    """The outbox: an event for one supplier, written in the transaction of the change it reports."""

    __tablename__ = "webhook_events"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    supplier_id: Mapped[str] = mapped_column(ForeignKey("suppliers.id", ondelete="CASCADE"), index=True)
    # Never sent: used to decide consent again at delivery time and to drop events on withdrawal.
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    event_type: Mapped[str] = mapped_column(String(40))
    purpose: Mapped[str] = mapped_column(String(40))
    categories: Mapped[list[Any]] = mapped_column(JSON)
    # Event facts with no personal data (an offer id, a segment name); the pseudonym is added when sent.
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurred_at: Mapped[datetime]


class WebhookDeliveryRow(Base):
    """One event to one endpoint: its state, attempts and the last outcome (the supplier's delivery log)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    endpoint_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[str] = mapped_column(ForeignKey("webhook_events.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16), default=DeliveryState.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    # Written by the broker only (a status line or an exception class), never the receiver's response body.
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
