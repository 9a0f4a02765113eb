"""Tables of the customer's vault. Every personal value is ciphertext under the customer's own data key.

Columns kept in the clear are only those a query must filter or order by; each says why.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from infomediary.database import Base, utcnow

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
AutoId = BigInteger().with_variant(Integer(), "sqlite")


class CustomerKey(Base):
    """The customer's data key, wrapped by a key-encryption key (``vault.WrappedKey.to_bytes()``)."""

    __tablename__ = "customer_keys"

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary(512))
    # Duplicates the version inside wrapped_key so that rotation can select "not yet on the current version"
    # and `keys status` can count keys per version with an index, without parsing every row.
    kek_version: Mapped[int] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    rewrapped_at: Mapped[datetime | None] = mapped_column(default=None)


class ProfileField(Base):
    """One profile field's value, sealed bound to (customer, ``profile.<key>``, schema version)."""

    __tablename__ = "profile_fields"

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    # The field key is clear so one field can be changed or cleared without rewriting the others; it names
    # the field's definition in ``fields.FIELDS``, never a value.
    field: Mapped[str] = mapped_column(String(64), primary_key=True)
    schema_version: Mapped[int] = mapped_column(Integer, default=1)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProfileChange(Base):
    """One change of one profile field; field, old and new value and actor are sealed together."""

    __tablename__ = "profile_changes"
    __table_args__ = (Index("ix_profile_changes_customer_id_id", "customer_id", "id"),)

    # Monotonic id: the cursor for paging the history in order.
    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    schema_version: Mapped[int] = mapped_column(Integer, default=1)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    # Clear: the history is listed and paged by time; the time of an edit reveals no profile value.
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class ActivityRecord(Base):
    """One activity record (view, search, cart change, rating, purchase), sealed whole as JSON."""

    __tablename__ = "activity_records"
    __table_args__ = (
        Index("ix_activity_records_customer_id_id", "customer_id", "id"),
        Index("ix_activity_records_customer_id_kind_occurred_at", "customer_id", "kind", "occurred_at"),
    )

    # Monotonic id: the keyset cursor for paging and for streaming the export.
    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    # Clear: recency/frequency/monetary figures read only purchases in a time window, without decrypting
    # every view and search; kind and time are also part of the associated data, so they cannot be edited.
    kind: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime]
    schema_version: Mapped[int] = mapped_column(Integer, default=1)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProcessingRestriction(Base):
    """The customer restricted processing (GDPR art. 18): no supplier use of their data until lifted."""

    __tablename__ = "processing_restrictions"

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    restricted_at: Mapped[datetime] = mapped_column(default=utcnow)
