"""Queries over recorded sanctions."""

from __future__ import annotations

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from infomediary.sanctions.models import SanctionKind, SupplierSanction

# Built once: every supplier query of the decision point counts strikes.
_STRIKES = (
    select(func.count())
    .select_from(SupplierSanction)
    .where(
        SupplierSanction.supplier_id == bindparam("supplier_id"),
        SupplierSanction.kind == SanctionKind.STRIKE.value,
    )
)


def strike_count(session: Session, supplier_id: str) -> int:
    """Every strike ever recorded against the supplier, by auditors or by the broker itself."""
    count = session.execute(_STRIKES, {"supplier_id": supplier_id}).scalar()
    return int(count or 0)


def find(session: Session, sanction_id: str) -> SupplierSanction | None:
    return session.get(SupplierSanction, sanction_id)
