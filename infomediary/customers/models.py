"""Tables for consumer accounts, their login sessions, the single-use links mailed to them and their second
factor. No plaintext email, password, token, code or TOTP secret is stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String
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
    # When she followed the link mailed to her login address; she signs in only after (`verification`).
    email_verified_at: Mapped[datetime | None] = mapped_column(default=None)


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


class AccountToken(Base):
    """A single-use token mailed to the customer (confirm the address, reset the password, confirm a new
    address) or handed to her client between the password and the second factor (`tokens`). Deleted when
    used: a used token and one never issued are the same to whoever presents it."""

    __tablename__ = "account_tokens"
    __table_args__ = (
        Index("ix_account_tokens_customer_purpose", "customer_id", "purpose"),
        Index("ix_account_tokens_expires_at", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # SHA-256 of a 256-bit random token, like a session's: only its owner's mailbox or client has the token.
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(24))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    # What the token's use acts on, sealed under the customer's data key by whoever issued it (the new login
    # address a change waits to confirm): it dies with the token, and with her key on erasure.
    payload: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)


class SecondFactor(Base):
    """A customer's TOTP authenticator (RFC 6238), pending until she confirms it with a first code."""

    __tablename__ = "second_factors"

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    # The shared secret sealed under her erasure key (`Vault.seal_bound`): it must open for every sign-in,
    # so it cannot be hashed, and it becomes unreadable, in backups too, when she is erased.
    secret_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(default=None)
    # The time step of the last code accepted: a code is good once, and no older one after it (replay).
    last_step: Mapped[int | None] = mapped_column(BigInteger, default=None)


class RecoveryCode(Base):
    """One of a customer's recovery codes, for when her authenticator is lost; deleted when used."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    # HMAC under a key derived from her erasure key (`Vault.tag_bound`): matched without being stored, not
    # guessable offline from a database copy, and unmatchable once she is erased.
    code_tag: Mapped[bytes] = mapped_column(LargeBinary(32))
