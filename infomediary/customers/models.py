"""Tables for consumer accounts and their login sessions. No plaintext email or password is stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from infomediary.database import Base, utcnow


class Customer(Base):
    __tablename__ = "customers"

    # The internal subject id: every table's key for the customer, never shown outside (`directory`).
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # Only in databases from before issue 18, until `directory.adopt_legacy` moves it (the keyed blind
    # index of the login address) to the erasure-key store and clears it: kept here, it tied every row of an
    # erased customer in a database backup to whoever could compute it from her address.
    email_index: Mapped[bytes | None] = mapped_column(LargeBinary(32), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConsumerSession(Base):
    __tablename__ = "consumer_sessions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # SHA-256 of a 256-bit random token: high-entropy tokens need no slow hash, only no plaintext at rest.
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class LoginFailure(Base):
    """One failed login, keyed by an HMAC of the account or client address (neither stored in the clear)."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key_at", "key", "failed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    key: Mapped[bytes] = mapped_column(LargeBinary(32))
    failed_at: Mapped[datetime] = mapped_column(default=utcnow)
