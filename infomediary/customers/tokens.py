"""Single-use tokens: the links mailed to a customer (confirm her address, reset her password, confirm a new
login address) and the challenge her client holds between the password and the second factor.

A token is 256 random bits; only its SHA-256 is stored, as for sessions: a token of that entropy needs no
slow hash, only no plaintext at rest. It is found by that hash through the table's unique index, so there is
no comparison of secrets in Python to time (and a hash prefix cannot be steered from outside). Using a token
deletes it, in one statement, so of two requests racing with the same token one wins. Issuing a token ends
the customer's earlier ones of the same purpose: only the newest link works.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import Session

from infomediary.customers.models import AccountToken
from infomediary.database import WriteSession
from infomediary.ids import new_id

VERIFY_EMAIL = "verify-email"
RESET_PASSWORD = "reset-password"  # noqa: S105 - a token purpose, not a password
LOGIN_CHALLENGE = "login-challenge"
CHANGE_EMAIL = "change-email"
TOKEN_BYTES = 32


@dataclass(frozen=True)
class Issued:
    token: str
    expires_at: datetime


@dataclass(frozen=True)
class Used:
    customer_id: str
    payload: bytes | None


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def issue(
    session: WriteSession,
    customer_id: str,
    purpose: str,
    *,
    ttl_seconds: int,
    now: datetime,
    payload: bytes | None = None,
) -> Issued:
    """A new token of `purpose`, ending her earlier ones; `payload` is kept with it (sealed by the caller)."""
    # Expired tokens of anyone are of no use to anyone: the table keeps only live ones.
    session.execute(delete(AccountToken).where(AccountToken.expires_at <= now))
    session.execute(
        delete(AccountToken).where(AccountToken.customer_id == customer_id, AccountToken.purpose == purpose)
    )
    token = secrets.token_urlsafe(TOKEN_BYTES)
    expires_at = now + timedelta(seconds=ttl_seconds)
    session.add(
        AccountToken(
            id=new_id("tok"),
            token_hash=token_hash(token),
            customer_id=customer_id,
            purpose=purpose,
            created_at=now,
            expires_at=expires_at,
            payload=payload,
        )
    )
    session.flush()
    return Issued(token=token, expires_at=expires_at)


def _live(token: str, purpose: str, now: datetime) -> list[ColumnElement[bool]]:
    return [
        AccountToken.token_hash == token_hash(token),
        AccountToken.purpose == purpose,
        AccountToken.expires_at > now,
    ]


def holder(session: Session, token: str, purpose: str, *, now: datetime) -> str | None:
    """The customer a live token of `purpose` was issued to, without using it (a form about to use it)."""
    found = session.scalar(select(AccountToken.customer_id).where(*_live(token, purpose, now)))
    return str(found) if found is not None else None


def use(session: WriteSession, token: str, purpose: str, *, now: datetime) -> str | None:
    """Use a token: the customer it was issued to, or None when it is unknown, used, expired or of another
    purpose (all alike to whoever presents it)."""
    used = use_with_payload(session, token, purpose, now=now)
    return used.customer_id if used is not None else None


def use_with_payload(session: WriteSession, token: str, purpose: str, *, now: datetime) -> Used | None:
    """`use`, with the payload the token was issued with."""
    statement = (
        delete(AccountToken)
        .where(*_live(token, purpose, now))
        .returning(AccountToken.customer_id, AccountToken.payload)
    )
    found = session.execute(statement).one_or_none()
    if found is None:
        return None
    customer_id, payload = found
    return Used(customer_id=str(customer_id), payload=bytes(payload) if payload is not None else None)


def revoke(session: WriteSession, customer_id: str, purpose: str) -> None:
    """End the customer's live tokens of `purpose` (a changed password ends pending sign-ins)."""
    session.execute(
        delete(AccountToken).where(AccountToken.customer_id == customer_id, AccountToken.purpose == purpose)
    )
