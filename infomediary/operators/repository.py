"""Queries for operator accounts and sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from infomediary.auditors.models import Auditor
from infomediary.database import WriteSession
from infomediary.operators.models import Operator, OperatorSession
from infomediary.suppliers.models import Supplier


def get_by_login_index(session: Session, index: bytes) -> Operator | None:
    return session.scalar(select(Operator).where(Operator.login_index == index))


def get(session: Session, operator_id: str) -> Operator | None:
    return session.get(Operator, operator_id)


# The session, its operator and the owner's name and status in one round trip.
_LIVE_SESSION = (
    select(
        OperatorSession.id,
        Operator.id,
        Operator.kind,
        func.coalesce(Operator.supplier_id, Operator.auditor_id),
        func.coalesce(Supplier.name, Auditor.name),
        func.coalesce(Supplier.status, Auditor.status),
    )
    .join(Operator, Operator.id == OperatorSession.operator_id)
    .outerjoin(Supplier, Supplier.id == Operator.supplier_id)
    .outerjoin(Auditor, Auditor.id == Operator.auditor_id)
)


def get_live_session(
    session: Session, token_hash: bytes, now: datetime
) -> tuple[str, str, str, str, str, str] | None:
    """(session id, operator id, kind, owner id, owner name, owner status) of a live session, or None."""
    row = session.execute(
        _LIVE_SESSION.where(
            OperatorSession.token_hash == token_hash,
            OperatorSession.revoked_at.is_(None),
            OperatorSession.expires_at > now,
            Operator.status == "active",
        )
    ).first()
    if row is None:
        return None
    session_id, operator_id, kind, owner_id, owner_name, owner_status = row
    return session_id, operator_id, kind, owner_id, owner_name, owner_status


def revoke_sessions(session: WriteSession, operator_id: str, now: datetime) -> None:
    session.execute(
        update(OperatorSession)
        .where(OperatorSession.operator_id == operator_id, OperatorSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def list_for_owner(session: Session, *, supplier_id: str | None, auditor_id: str | None) -> list[Operator]:
    query = select(Operator).order_by(Operator.created_at, Operator.id)
    if supplier_id is not None:
        query = query.where(Operator.supplier_id == supplier_id)
    if auditor_id is not None:
        query = query.where(Operator.auditor_id == auditor_id)
    return list(session.scalars(query))
