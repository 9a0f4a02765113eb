"""Queries for consumer accounts and sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy import delete as sa_delete
from sqlalchemy.orm import Session

from infomediary.customers.models import ConsumerSession, Customer
from infomediary.database import PreparedRead, UTCDateTime, WriteSession


def get(session: Session, customer_id: str) -> Customer | None:
    return session.get(Customer, customer_id)


# Built once with bind parameters, and only the two ids: every consumer request runs it, and building the
# select and two ORM objects per call cost more than the query.
_LIVE_SESSION = (
    select(ConsumerSession.id, ConsumerSession.customer_id)
    .join(Customer, Customer.id == ConsumerSession.customer_id)
    .where(
        ConsumerSession.token_hash == bindparam("token_hash"),
        ConsumerSession.revoked_at.is_(None),
        ConsumerSession.expires_at > bindparam("now", type_=UTCDateTime()),
        Customer.status == "active",
    )
)


# The same, locking the customer's row until the transaction ends (PostgreSQL; SQLite's writers already hold
# the database lock): a customer's writing requests then run one at a time, so two edits of one profile, two
# restrictions or two exclusion lists never race on the customer's own rows. Still one round trip.
_LIVE_SESSION_LOCKED = _LIVE_SESSION.with_for_update(of=Customer)
# The read of every consumer request that does not write, straight to asyncpg (`PreparedRead`). Not the
# locking one: a prepared read may run before its transaction's first statement, outside it.
_LIVE_SESSION_READ = PreparedRead(_LIVE_SESSION)


def get_live_session(
    session: Session, token_hash: bytes, now: datetime, *, lock: bool = False
) -> tuple[str, str] | None:
    """(session id, customer id) of a live session of an active customer with this token hash; `lock`
    also locks the customer's row for the rest of the transaction."""
    params = {"token_hash": token_hash, "now": now}
    if lock:
        locked = session.execute(_LIVE_SESSION_LOCKED, params).first()
        return (locked[0], locked[1]) if locked else None
    row = _LIVE_SESSION_READ.first(session, params)
    return (row[0], row[1]) if row else None


def revoke_sessions(
    session: WriteSession, customer_id: str, now: datetime, *, except_id: str | None = None
) -> None:
    stmt = update(ConsumerSession).where(
        ConsumerSession.customer_id == customer_id, ConsumerSession.revoked_at.is_(None)
    )
    if except_id is not None:
        stmt = stmt.where(ConsumerSession.id != except_id)
    session.execute(stmt.values(revoked_at=now))


def delete(session: WriteSession, customer_id: str) -> int:
    """Delete the account and its sessions (so no token of it works again); returns the sessions deleted."""
    sessions = session.execute(sa_delete(ConsumerSession).where(ConsumerSession.customer_id == customer_id))
    session.execute(sa_delete(Customer).where(Customer.id == customer_id))
    return int(sessions.rowcount)  # type: ignore[attr-defined]
