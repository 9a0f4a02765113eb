"""Queries for consumer accounts and sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete as sa_delete
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from infomediary.customers.models import ConsumerSession, Customer


def get_by_email_index(session: Session, index: bytes) -> Customer | None:
    return session.scalar(select(Customer).where(Customer.email_index == index))


def get(session: Session, customer_id: str) -> Customer | None:
    return session.get(Customer, customer_id)


def get_live_session(
    session: Session, token_hash: bytes, now: datetime
) -> tuple[ConsumerSession, Customer] | None:
    row = session.execute(
        select(ConsumerSession, Customer)
        .join(Customer, Customer.id == ConsumerSession.customer_id)
        .where(
            ConsumerSession.token_hash == token_hash,
            ConsumerSession.revoked_at.is_(None),
            ConsumerSession.expires_at > now,
            Customer.status == "active",
        )
    ).first()
    return (row[0], row[1]) if row else None


def revoke_sessions(
    session: Session, customer_id: str, now: datetime, *, except_id: str | None = None
) -> None:
    stmt = update(ConsumerSession).where(
        ConsumerSession.customer_id == customer_id, ConsumerSession.revoked_at.is_(None)
    )
    if except_id is not None:
        stmt = stmt.where(ConsumerSession.id != except_id)
    session.execute(stmt.values(revoked_at=now))


def delete(session: Session, customer_id: str) -> int:
    """Delete the account and its sessions (so no token of it works again); returns the sessions deleted."""
    sessions = session.execute(sa_delete(ConsumerSession).where(ConsumerSession.customer_id == customer_id))
    session.execute(sa_delete(Customer).where(Customer.id == customer_id))
    return int(sessions.rowcount)  # type: ignore[attr-defined]
