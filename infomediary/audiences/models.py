"""Audience tables: the index of generalised attributes, the epsilon ledger and the released answers.

`audience_index` is one of the two documented exceptions to "no plaintext at rest" (DESIGN.md, non-negotiable
1): it holds only the generalised values of the allow-list in `dimensions`, one row per customer who may be
counted at all (no row while processing is restricted, none after erasure), so counting never decrypts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    DDL,
    BigInteger,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column

from infomediary.database import Base, utcnow


class AudienceIndexRow(Base):
    """A customer's generalised attributes; NULL where the vault holds nothing to derive a value from."""

    __tablename__ = "audience_index"
    __table_args__ = (
        # The common leading filters of a count; PostgreSQL combines them with bitmap scans when selective.
        Index("ix_audience_index_postal_prefix_age_band", "postal_prefix", "age_band"),
        Index("ix_audience_index_gender_age_band", "gender", "age_band"),
        Index("uq_audience_index_member_no", "member_no", unique=True),
    )

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    age_band: Mapped[str | None] = mapped_column(String(8))
    gender: Mapped[str | None] = mapped_column(String(20))
    postal_prefix: Mapped[str | None] = mapped_column(String(4))
    # One bit per interest of the fixed vocabulary (`dimensions.INTERESTS`): a flag test needs no join.
    interests: Mapped[int] = mapped_column(BigInteger, default=0)
    rfm_recency_band: Mapped[int | None] = mapped_column(SmallInteger)
    rfm_frequency_band: Mapped[int | None] = mapped_column(SmallInteger)
    rfm_monetary_band: Mapped[int | None] = mapped_column(SmallInteger)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A small integer per customer, kept while her row lasts (an update keeps it): the compact name the
    # stored answers' sets of customers use (`AudienceAnswerRow.members`). PostgreSQL numbers rows by an
    # identity column; SQLite has none, so a trigger copies the row's rowid (`MEMBER_NO_TRIGGER`).
    member_no: Mapped[int | None] = mapped_column(BigInteger, Identity())


# SQLite has no identity column: the row's own rowid, copied once on insert, numbers it (also for tables made
# by `create_all`, as the benchmarks do; migration 0019 creates it for migrated databases).
MEMBER_NO_TRIGGER = (
    "CREATE TRIGGER IF NOT EXISTS audience_index_member_no AFTER INSERT ON audience_index"
    " FOR EACH ROW WHEN NEW.member_no IS NULL BEGIN"
    " UPDATE audience_index SET member_no = NEW.rowid WHERE rowid = NEW.rowid; END"
)
_CREATE_TRIGGER = DDL(MEMBER_NO_TRIGGER)  # type: ignore[no-untyped-call]
event.listen(AudienceIndexRow.__table__, "after_create", _CREATE_TRIGGER.execute_if(dialect="sqlite"))


class EpsilonLedgerRow(Base):
    """Privacy budget spent by one supplier in one period, in integer milli-epsilon (no float drift)."""

    __tablename__ = "epsilon_ledger"

    supplier_id: Mapped[str] = mapped_column(ForeignKey("suppliers.id", ondelete="CASCADE"), primary_key=True)
    period_start: Mapped[datetime] = mapped_column(primary_key=True)
    spent_milli: Mapped[int] = mapped_column(Integer, default=0)


class AudienceAnswerRow(Base):
    """A released answer, kept for the period: repeats get it back free, and later counts are compared with
    the customers its predicate matches, for differencing.

    Only the released (noisy or suppressed) answer is stored, never the true count.
    """

    __tablename__ = "audience_answers"
    __table_args__ = (Index("ix_audience_answers_supplier_period", "supplier_id", "period_start"),)

    supplier_id: Mapped[str] = mapped_column(ForeignKey("suppliers.id", ondelete="CASCADE"), primary_key=True)
    period_start: Mapped[datetime] = mapped_column(primary_key=True)
    # sha256 of the canonical purpose and predicate.
    query_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(40))
    # The canonical predicate (the supplier's own query, no personal data), for differencing detection.
    predicate: Mapped[str] = mapped_column(Text)
    count: Mapped[int | None] = mapped_column(Integer)
    epsilon_milli: Mapped[int] = mapped_column(Integer)
    # The population epoch the answer was computed at: an answer computed before a customer left is not
    # served again (no later answer may include a customer who withdrew).
    epoch: Mapped[int] = mapped_column(BigInteger)
    # The customers the answer counted, as a serialised roaring bitmap of their index `member_no`s (no
    # identifier of theirs, only numbers the index alone maps back): later queries of the period are compared
    # with it for differencing (`audiences.differencing`). Dropped with the answer at the period's end.
    members: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


EPOCH_ROW = 1  # the id of the one row of `audience_epoch`


class AudienceEpochRow(Base):
    """One row: bumped whenever a customer leaves the countable population, which retires cached answers."""

    __tablename__ = "audience_epoch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    epoch: Mapped[int] = mapped_column(BigInteger, default=0)
