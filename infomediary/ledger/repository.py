"""Queries of the rewards ledger: accounts (found, created, locked), transactions and postings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from infomediary.database import WriteSession, upsert_insert
from infomediary.ids import new_id
from infomediary.ledger.models import LedgerAccount, LedgerPosting, LedgerTransaction, OwnerKind
from infomediary.suppliers.models import Supplier


def ensure_account(session: WriteSession, owner_kind: OwnerKind, owner_id: str) -> str:
    """The id of the owner's account, created on first use (racing creators agree on one row)."""
    found = session.scalar(
        select(LedgerAccount.id).where(
            LedgerAccount.owner_kind == owner_kind.value, LedgerAccount.owner_id == owner_id
        )
    )
    if found is not None:
        return found
    session.execute(
        upsert_insert(session, LedgerAccount)
        .values(id=new_id("acc"), owner_kind=owner_kind.value, owner_id=owner_id, balance=0)
        .on_conflict_do_nothing()
    )
    return session.scalars(
        select(LedgerAccount.id).where(
            LedgerAccount.owner_kind == owner_kind.value, LedgerAccount.owner_id == owner_id
        )
    ).one()


def lock_accounts(session: WriteSession, account_ids: Iterable[str]) -> dict[str, LedgerAccount]:
    """Lock the accounts until the transaction ends, in id order so that two posters never deadlock.

    `FOR UPDATE` on PostgreSQL; SQLite's writing transactions already hold the database write lock.
    """
    ids = sorted(set(account_ids))
    rows = session.scalars(
        select(LedgerAccount)
        .where(LedgerAccount.id.in_(ids))
        .order_by(LedgerAccount.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    return {row.id: row for row in rows}


def find_transaction(session: Session, initiator: str, idempotency_key: str) -> LedgerTransaction | None:
    return session.scalar(
        select(LedgerTransaction).where(
            LedgerTransaction.initiator == initiator, LedgerTransaction.idempotency_key == idempotency_key
        )
    )


def balance_of(session: Session, owner_kind: OwnerKind, owner_id: str) -> int:
    """The cached balance (0 for an owner who never had an account)."""
    value = session.scalar(
        select(LedgerAccount.balance).where(
            LedgerAccount.owner_kind == owner_kind.value, LedgerAccount.owner_id == owner_id
        )
    )
    return int(value or 0)


def postings_page(
    session: Session, owner_kind: OwnerKind, owner_id: str, *, before: int | None, limit: int
) -> list[tuple[LedgerPosting, str]]:
    """The owner's postings, newest first, with their transaction's kind; `before` is a posting id cursor."""
    query = (
        select(LedgerPosting, LedgerTransaction.kind)
        .join(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerPosting.transaction_id)
        .where(LedgerAccount.owner_kind == owner_kind.value, LedgerAccount.owner_id == owner_id)
        .order_by(LedgerPosting.id.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(LedgerPosting.id < before)
    return [(posting, kind) for posting, kind in session.execute(query)]


def counterparties(
    session: Session, transaction_ids: Sequence[str], exclude_account: str
) -> list[tuple[str, str, str | None]]:
    """(transaction id, owner kind, supplier name or None) of the other accounts in these transactions.

    Only suppliers' names are read: a customer counterparty is never identified to anyone.
    """
    if not transaction_ids:
        return []
    rows = session.execute(
        select(LedgerPosting.transaction_id, LedgerAccount.owner_kind, Supplier.name)
        .join(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
        .outerjoin(
            Supplier,
            (LedgerAccount.owner_kind == OwnerKind.SUPPLIER.value) & (Supplier.id == LedgerAccount.owner_id),
        )
        .where(LedgerPosting.transaction_id.in_(transaction_ids), LedgerPosting.account_id != exclude_account)
        .distinct()
    )
    return [(tx, kind, name) for tx, kind, name in rows]


def account_id_of(session: Session, owner_kind: OwnerKind, owner_id: str) -> str | None:
    return session.scalar(
        select(LedgerAccount.id).where(
            LedgerAccount.owner_kind == owner_kind.value, LedgerAccount.owner_id == owner_id
        )
    )


def total_of_postings(session: Session) -> int:
    """The sum of every posting ever written: zero in a consistent ledger."""
    return int(session.scalar(select(func.coalesce(func.sum(LedgerPosting.amount), 0))) or 0)


def sums_by_account(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(LedgerPosting.account_id, func.sum(LedgerPosting.amount)).group_by(LedgerPosting.account_id)
    )
    return {account_id: int(total) for account_id, total in rows}
