"""Tables of the policy log: entries, perfect-subtree nodes, signed tree heads and the append counter.

Entries keep the exact canonical bytes that the leaf hash commits to; next to them, clear copies of the
dimensions that the customer view and the reports filter on. None of those is personal data: the subject
is a keyed pseudonym, suppliers appear by id.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from infomediary.database import Base, utcnow


class PolicyLogEntry(Base):
    __tablename__ = "policy_log_entries"
    __table_args__ = (
        Index("ix_policy_log_entries_subject_leaf", "subject", "leaf_index"),
        Index("ix_policy_log_entries_supplier_purpose", "supplier_id", "purpose"),
    )

    leaf_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    entry: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    kind: Mapped[str] = mapped_column(String(40), index=True)
    subject: Mapped[str | None] = mapped_column(String(64))
    supplier_id: Mapped[str | None] = mapped_column(String(40))
    purpose: Mapped[str | None] = mapped_column(String(64))
    decision: Mapped[str | None] = mapped_column(String(8))
    # Space-separated data categories, and the release figures the reports sum.
    categories: Mapped[str | None] = mapped_column(String(1000))
    release_count: Mapped[int | None] = mapped_column(BigInteger)
    epsilon_milli: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PolicyLogNode(Base):
    """The hash of a perfect subtree: written once when its last leaf arrives, never changed."""

    __tablename__ = "policy_log_nodes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    node_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class PolicyLogTreeHead(Base):
    __tablename__ = "policy_log_tree_heads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tree_size: Mapped[int] = mapped_column(BigInteger, index=True)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    timestamp_ms: Mapped[int] = mapped_column(BigInteger)
    checkpoint: Mapped[str] = mapped_column(Text)


class PolicyLogState(Base):
    """One row: the tree size. Every append updates it first, which serialises appenders."""

    __tablename__ = "policy_log_state"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)
