"""Searching the log as an auditor: entries newest first, by supplier, purpose and kind, in plain words.

Filters use the clear dimension columns stored next to each entry (none of them personal data); the entry
bytes themselves are what the leaf hash commits to, so what is shown can be checked against a proof.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from infomediary.policylog import wording
from infomediary.policylog.entry import decode_entry
from infomediary.policylog.models import PolicyLogEntry
from infomediary.suppliers.models import Supplier

MAX_PAGE = 200


@dataclass(frozen=True)
class SearchLine:
    leaf_index: int
    kind: str
    at: str
    supplier_id: str | None
    supplier_name: str | None
    purpose: str | None
    decision: str | None
    text: str
    entry: bytes


@dataclass(frozen=True)
class SearchPage:
    lines: list[SearchLine]
    next_cursor: int | None


def search(
    session: Session,
    *,
    supplier_id: str | None = None,
    purpose: str | None = None,
    kind: str | None = None,
    before: int | None = None,
    limit: int = 50,
) -> SearchPage:
    """Entries matching every given filter, newest first, from below leaf `before` (the cursor)."""
    limit = max(1, min(limit, MAX_PAGE))
    e = PolicyLogEntry
    query = select(e, Supplier.name).outerjoin(Supplier, Supplier.id == e.supplier_id)
    if supplier_id:
        query = query.where(e.supplier_id == supplier_id)
    if purpose:
        query = query.where(e.purpose == purpose)
    if kind:
        query = query.where(e.kind == kind)
    if before is not None:
        query = query.where(e.leaf_index < before)
    rows = session.execute(query.order_by(e.leaf_index.desc()).limit(limit + 1)).all()
    page = rows[:limit]
    names = {row.supplier_id: name for row, name in page if row.supplier_id and name}
    lines = []
    for row, name in page:
        decoded = decode_entry(bytes(row.entry))
        lines.append(
            SearchLine(
                leaf_index=row.leaf_index,
                kind=row.kind,
                at=str(decoded.get("at", "")),
                supplier_id=row.supplier_id,
                supplier_name=name,
                purpose=row.purpose,
                decision=row.decision,
                text=wording.describe(decoded, names),
                entry=bytes(row.entry),
            )
        )
    more = len(rows) > limit
    return SearchPage(lines=lines, next_cursor=page[-1][0].leaf_index if more and page else None)
