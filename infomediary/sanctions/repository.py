"""Queries over recorded sanctions."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from infomediary.database import among
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


def strike_counts(session: Session, supplier_ids: Sequence[str]) -> dict[str, int]:
    """`strike_count` of each of these suppliers, in one query (every supplier gets a count, maybe 0)."""
    counts = dict.fromkeys(supplier_ids, 0)
    if supplier_ids:
        rows = session.execute(
            select(SupplierSanction.supplier_id, func.count())
            .where(
                among(session, SupplierSanction.supplier_id, supplier_ids),
                SupplierSanction.kind == SanctionKind.STRIKE.value,
            )
            .group_by(SupplierSanction.supplier_id)
        )
        counts.update((supplier_id, int(count)) for supplier_id, count in rows)
    return counts


def find(session: Session, sanction_id: str) -> SupplierSanction | None:
    return session.get(SupplierSanction, sanction_id)
