"""Tables of the consent engine. Consent metadata only: no profile value is stored here.

Wildcards are NULL: `supplier_id IS NULL` means every supplier (`consent.ALL_SUPPLIERS`), `category IS
NULL` every category (`consent.ALL_CATEGORIES`), so a foreign key still guards every named supplier.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from infomediary.database import Base, utcnow


class ConsentRecordRow(Base):
    """The current state of one consent record (`consent.ConsentRecord`)."""

    __tablename__ = "consent_records"
    __table_args__ = (
        Index("ix_consent_records_customer_purpose", "customer_id", "purpose"),
        # The set-based filter scans by (purpose, supplier) across customers.
        Index("ix_consent_records_purpose_supplier", "purpose", "supplier_id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    supplier_id: Mapped[str | None] = mapped_column(ForeignKey("suppliers.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(40))
    category: Mapped[str | None] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(16))
    expires_at: Mapped[datetime | None]
    price: Mapped[int | None] = mapped_column(Integer)
    policy_version: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConsentEventRow(Base):
    """One entry of a record's append-only history, with the signed receipt issued for it (if any)."""

    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("consent_records.id", ondelete="CASCADE"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(300))
    receipt_id: Mapped[str | None] = mapped_column(String(40))
    receipt: Mapped[str | None] = mapped_column(Text)


class StandingTermRow(Base):
    """One standing term (`consent.terms`): `kind` says which of category, purpose, credits apply."""

    __tablename__ = "standing_terms"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    category: Mapped[str | None] = mapped_column(String(40))
    purpose: Mapped[str | None] = mapped_column(String(40))
    credits: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SupplierPolicyRow(Base):
    """One published version of a supplier's privacy policy, with the consent floor after it."""

    __tablename__ = "supplier_policies"
    __table_args__ = (UniqueConstraint("supplier_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    supplier_id: Mapped[str] = mapped_column(ForeignKey("suppliers.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    purposes: Mapped[list[Any]] = mapped_column(JSON)
    categories: Mapped[list[Any]] = mapped_column(JSON)
    policy_url: Mapped[str | None] = mapped_column(String(500))
    # The latest version that widened use, as of this version (`consent.policy.next_consent_floor`).
    consent_floor_version: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[datetime] = mapped_column(default=utcnow)


class SupplierRequestRow(Base):
    """An item of a customer's inbox: a supplier's request, or a re-ask after a widened policy."""

    __tablename__ = "supplier_requests"
    __table_args__ = (
        Index("ix_supplier_requests_customer_status", "customer_id", "status"),
        Index("ix_supplier_requests_supplier_tag", "supplier_id", "pseudonym_tag"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    supplier_id: Mapped[str] = mapped_column(ForeignKey("suppliers.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    origin: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(40))
    categories: Mapped[list[Any]] = mapped_column(JSON)
    release_kind: Mapped[str] = mapped_column(String(32))
    price_offered: Mapped[int] = mapped_column(Integer, default=0)
    policy_version: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]
    # The pseudonym the supplier named the customer by (None for a re-ask), echoed back as it was given:
    # answering a request made with a slice's pseudonym with her stable one would link her slices. Kept
    # only under her erasure key (sealed, and as a tag to find a second request naming it), so that no
    # database backup ties the pseudonym to her rows once she is erased.
    pseudonym_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    pseudonym_tag: Mapped[bytes | None] = mapped_column(LargeBinary(32))


class PrivacySignalRow(Base):
    """A customer's Global Privacy Control opt-out of sale and sharing, and when it was first recorded."""

    __tablename__ = "customer_privacy_signals"

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    gpc: Mapped[bool] = mapped_column(Boolean)
    recorded_at: Mapped[datetime]
