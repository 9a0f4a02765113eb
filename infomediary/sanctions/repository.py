"""Queries over recorded sanctions."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from infomediary.sanctions.models import SanctionKind, SupplierSanction


def strike_count(session: Session, supplier_id: str) -> int:
    """Every strike ever recorded against the supplier, by auditors or by the broker itself."""
    count = session.scalar(
        select(func.count())
        .select_from(SupplierSanction)
        .where(
            SupplierSanction.supplier_id == supplier_id, SupplierSanction.kind == SanctionKind.STRIKE.value
        )
    )
    return int(count or 0)


def find(session: Session, sanction_id: str) -> SupplierSanction | None:
    return session.get(SupplierSanction, sanction_id)
