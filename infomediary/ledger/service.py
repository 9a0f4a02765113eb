"""Posting money: one balanced, idempotent transaction per money-moving request, and owners' statements.

`post` is what every money-moving path calls (penalties now; offers, views and slices later). It locks the
accounts it touches, replays a repeated idempotency key instead of paying twice, refuses to take a supplier
below minus its credit line, and writes the postings and the cached balances in the caller's transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, bindparam, update
from sqlalchemy.orm.attributes import set_committed_value

from infomediary.database import WriteSession, require_writable
from infomediary.ids import new_id
from infomediary.ledger import repository
from infomediary.ledger.errors import (
    CreditLineExceeded,
    IdempotencyKeyReused,
    InsufficientCredits,
    UnbalancedTransaction,
)
from infomediary.ledger.models import (
    BROKER_OWNER_ID,
    LedgerAccount,
    LedgerPosting,
    LedgerTransaction,
    OwnerKind,
    TransactionKind,
)


@dataclass(frozen=True)
class Account:
    """Whose account a posting moves: resolved to an account row (created on first use) by `post`."""

    owner_kind: OwnerKind
    owner_id: str


def customer(customer_id: str) -> Account:
    return Account(OwnerKind.CUSTOMER, customer_id)


def supplier(supplier_id: str) -> Account:
    return Account(OwnerKind.SUPPLIER, supplier_id)


BROKER = Account(OwnerKind.BROKER, BROKER_OWNER_ID)


@dataclass(frozen=True)
class Posted:
    transaction_id: str
    kind: str
    reference: str | None
    created_at: datetime
    # True when the idempotency key had been used before with the same content: nothing moved this time.
    replayed: bool


def _fingerprint(kind: TransactionKind, lines: dict[Account, int], memo: str | None) -> str:
    content = {
        "kind": kind.value,
        "postings": sorted([a.owner_kind.value, a.owner_id, amount] for a, amount in lines.items()),
        "memo": memo,
    }
    return hashlib.sha256(json.dumps(content, separators=(",", ":")).encode()).hexdigest()


def _balanced(postings: Sequence[tuple[Account, int]]) -> dict[Account, int]:
    """Postings merged per account; refuses anything but a non-empty, zero-sum set of integer moves."""
    lines: dict[Account, int] = defaultdict(int)
    for account, amount in postings:
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise UnbalancedTransaction("amounts are integer credits")
        lines[account] += amount
    lines = {account: amount for account, amount in lines.items() if amount != 0}
    if not lines or sum(lines.values()) != 0:
        raise UnbalancedTransaction()
    return lines


def _posted(row: LedgerTransaction, *, replayed: bool) -> Posted:
    return Posted(row.id, row.kind, row.reference, row.created_at, replayed)


_CREDIT = (
    update(LedgerAccount)
    .where(LedgerAccount.id == bindparam("row_id"))
    .values(balance=LedgerAccount.balance + bindparam("amount", type_=Integer))
    .returning(LedgerAccount.balance)
    .execution_options(synchronize_session=False)
)


def post(
    session: WriteSession,
    *,
    kind: TransactionKind,
    postings: Sequence[tuple[Account, int]],
    idempotency_key: str,
    initiator: str,
    credit_line: int,
    reference: str | None = None,
    memo: str | None = None,
) -> Posted:
    """Move credits between accounts in one transaction; flushes, never commits.

    A repeated `idempotency_key` from the same `initiator` returns the first transaction if the content is
    the same, and raises `IdempotencyKeyReused` otherwise. A supplier account that would end below
    `-credit_line` refuses the whole transaction with `CreditLineExceeded`, a customer account that would
    end below zero with `InsufficientCredits`: customers get no credit.
    """
    require_writable(session)
    lines = _balanced(postings)
    fingerprint = _fingerprint(kind, lines, memo)
    ids = {
        account: repository.ensure_account(session, account.owner_kind, account.owner_id) for account in lines
    }
    # Lock first, then look for the key: a concurrent twin of this request waits here and then replays.
    locked = repository.lock_accounts(session, ids.values())
    existing = repository.find_transaction(session, initiator, idempotency_key)
    if existing is not None:
        if existing.fingerprint != fingerprint:
            raise IdempotencyKeyReused(f"Idempotency-Key {idempotency_key!r} was used for another request")
        return _posted(existing, replayed=True)
    for account, amount in lines.items():
        row = locked[ids[account]]
        if account.owner_kind is OwnerKind.SUPPLIER and amount < 0 and row.balance + amount < -credit_line:
            raise CreditLineExceeded(
                f"this would take the supplier's balance to {row.balance + amount}, "
                f"below its credit line of -{credit_line}",
                balance=row.balance,
                credit_line=credit_line,
            )
        # Checked on the locked row: two spends racing for the same credits cannot both pass.
        if account.owner_kind is OwnerKind.CUSTOMER and amount < 0 and row.balance + amount < 0:
            raise InsufficientCredits(
                f"this needs {-amount} credits and the balance is {row.balance}", balance=row.balance
            )
    transaction = LedgerTransaction(
        id=new_id("txn"),
        kind=kind.value,
        initiator=initiator,
        idempotency_key=idempotency_key,
        fingerprint=fingerprint,
        reference=reference,
        memo=memo,
    )
    session.add(transaction)
    session.flush()
    for account, amount in sorted(lines.items(), key=lambda item: ids[item[0]]):
        row = locked[ids[account]]
        # An increment made by the database, on the row locked above; the object learns the new balance
        # as loaded, so no flush writes back a total computed here.
        balance = session.execute(_CREDIT, {"row_id": row.id, "amount": amount}).scalar_one()
        set_committed_value(row, "balance", int(balance))
        session.add(
            LedgerPosting(
                transaction_id=transaction.id,
                account_id=row.id,
                amount=amount,
                created_at=transaction.created_at,
            )
        )
    session.flush()
    return _posted(transaction, replayed=False)


def top_up(session: WriteSession, *, supplier_id: str, amount: int, idempotency_key: str) -> Posted:
    """An operator credits a supplier's account (the supplier paid the broker outside the system).

    The broker's account is the counterparty, so it goes negative by what suppliers have paid in: the sum
    of all postings stays zero.
    """
    if amount <= 0:
        raise UnbalancedTransaction("a top-up is a positive number of credits")
    return post(
        session,
        kind=TransactionKind.TOP_UP,
        postings=[(supplier(supplier_id), amount), (BROKER, -amount)],
        idempotency_key=idempotency_key,
        initiator="operator",
        # Only suppliers are held to a credit line, and this one is credited.
        credit_line=0,
    )
