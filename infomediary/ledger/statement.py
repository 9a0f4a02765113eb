"""What an owner sees of the ledger: their balance and their postings, newest first, with counterparties.

A counterparty is named only if it is a supplier (by its name) or the broker; customers appear as
"customer", so no customer id ever reaches a supplier or another customer.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from infomediary.ledger import repository
from infomediary.ledger.models import OwnerKind


@dataclass(frozen=True)
class Line:
    id: int
    transaction_id: str
    kind: str
    amount: int
    created_at: datetime
    counterparties: list[str]


@dataclass(frozen=True)
class Statement:
    balance: int
    lines: list[Line]
    next_cursor: str | None


def _cursor(value: str | None) -> int | None:
    # Cursors are opaque to clients; a malformed one starts from the newest entry rather than failing.
    if value is None or not value.isdigit():
        return None
    return int(value)


def _label(owner_kind: str, supplier_name: str | None) -> str:
    if owner_kind == OwnerKind.SUPPLIER.value and supplier_name is not None:
        return supplier_name
    return owner_kind


def statement(
    session: Session, owner_kind: OwnerKind, owner_id: str, *, cursor: str | None, limit: int
) -> Statement:
    balance = repository.balance_of(session, owner_kind, owner_id)
    account_id = repository.account_id_of(session, owner_kind, owner_id)
    if account_id is None:
        return Statement(balance=0, lines=[], next_cursor=None)
    rows = repository.postings_page(session, owner_kind, owner_id, before=_cursor(cursor), limit=limit + 1)
    page = rows[:limit]
    names: dict[str, set[str]] = defaultdict(set)
    for tx, kind, name in repository.counterparties(session, [p.transaction_id for p, _ in page], account_id):
        names[tx].add(_label(kind, name))
    lines = [
        Line(
            id=posting.id,
            transaction_id=posting.transaction_id,
            kind=kind,
            amount=posting.amount,
            created_at=posting.created_at,
            counterparties=sorted(names[posting.transaction_id]),
        )
        for posting, kind in page
    ]
    next_cursor = str(page[-1][0].id) if len(rows) > limit and page else None
    return Statement(balance=balance, lines=lines, next_cursor=next_cursor)
