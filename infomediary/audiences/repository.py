"""Queries of the audience tables: the consent-gated count and the stored answers of a period."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from pyroaring import BitMap
from sqlalchemy import ColumnElement, and_, bindparam, func, select
from sqlalchemy.orm import Session

from consent.decision import SupplierQuery
from infomediary.audiences.models import (
    EPOCH_ROW,
    AudienceAnswerRow,
    AudienceEpochRow,
    AudienceIndexRow,
    EpsilonLedgerRow,
)
from infomediary.consents import repository as consents
from infomediary.consents.set_filter import NOW, PermitGate
from infomediary.database import PreparedRead, UTCDateTime
from infomediary.suppliers.models import Supplier

# The consent gate of every count, built once per query shape and policy (see `PermitGate`).
_GATE = PermitGate(AudienceIndexRow.customer_id, correlated=True)


def members(session: Session, query: SupplierQuery, where: ColumnElement[bool]) -> BitMap:
    """The customers who match `where` and whom the consent decision permits for `query`, as the bitmap of
    their index `member_no`s: the true count is its length. It never leaves the service.

    The same scan as the count, returning the numbers instead of counting them: PostgreSQL aggregates them
    into one array (one value to transfer, not a row each), SQLite returns rows.
    """
    policy = consents.policy_in_force(session, query.supplier_id, query.now)
    gate = _GATE(query, policy)
    numbers: Iterable[int | None]
    if session.get_bind().dialect.name == "postgresql":
        statement = select(func.array_agg(AudienceIndexRow.member_no)).where(where, gate)
        numbers = session.scalar(statement, {NOW: query.now}) or []
    else:
        numbers = session.scalars(select(AudienceIndexRow.member_no).where(where, gate), {NOW: query.now})
    # Every index row has a number (identity, or the trigger's): none of these is None.
    return BitMap(cast("Iterable[int]", numbers))


def answer(
    session: Session, supplier_id: str, period_start: datetime, query_key: str
) -> AudienceAnswerRow | None:
    """The stored answer, read again even if this session already holds it (under the budget's lock, a
    twin's answer may have been stored since)."""
    return session.get(AudienceAnswerRow, (supplier_id, period_start, query_key), populate_existing=True)


@dataclass(frozen=True)
class FirstLook:
    """What a count reads before deciding whether it is a repeat: the population's epoch, the stored answer
    of this query in the period (if any), and the supplier's status and spending (for the budget left)."""

    epoch: int
    answered: bool
    count: int | None
    answer_epoch: int | None
    supplier_status: str | None
    spent_milli: int


_EPOCH = select(AudienceEpochRow.epoch).where(AudienceEpochRow.id == EPOCH_ROW)
_PERIOD = bindparam("period_start", type_=UTCDateTime())
# One statement, straight to asyncpg (`PreparedRead`): a repeated count (most counts) read the epoch, the
# answer and the balance in three, and statements are most of a request's cost.
_FIRST_LOOK = PreparedRead(
    select(
        _EPOCH.scalar_subquery(),
        AudienceAnswerRow.query_key,
        AudienceAnswerRow.count,
        AudienceAnswerRow.epoch,
        Supplier.status,
        EpsilonLedgerRow.spent_milli,
    )
    .select_from(Supplier)
    .outerjoin(
        AudienceAnswerRow,
        and_(
            AudienceAnswerRow.supplier_id == Supplier.id,
            AudienceAnswerRow.period_start == _PERIOD,
            AudienceAnswerRow.query_key == bindparam("query_key"),
        ),
    )
    .outerjoin(
        EpsilonLedgerRow,
        and_(EpsilonLedgerRow.supplier_id == Supplier.id, EpsilonLedgerRow.period_start == _PERIOD),
    )
    .where(Supplier.id == bindparam("supplier_id"))
)


def first_look(session: Session, supplier_id: str, period_start: datetime, query_key: str) -> FirstLook:
    params = {"supplier_id": supplier_id, "period_start": period_start, "query_key": query_key}
    row = _FIRST_LOOK.first(session, params)
    if row is None:  # no such supplier: nothing stored, nothing spent
        return FirstLook(int(session.scalar(_EPOCH) or 0), False, None, None, None, 0)
    epoch, key, count, answer_epoch, status, spent = row
    return FirstLook(int(epoch or 0), key is not None, count, answer_epoch, status, int(spent or 0))


def recent_members(
    session: Session, supplier_id: str, period_start: datetime, limit: int, *, besides: str
) -> list[BitMap]:
    """The customers counted by the supplier's `limit` most recent stored answers of the period (counts and
    offers' audiences alike), but for the query `besides` (the one being answered)."""
    if limit <= 0:
        return []
    a = AudienceAnswerRow
    blobs = session.scalars(
        select(a.members)
        .where(
            a.supplier_id == supplier_id,
            a.period_start == period_start,
            a.query_key != besides,
            a.members.is_not(None),
        )
        .order_by(a.created_at.desc(), a.query_key)
        .limit(limit)
    )
    return [BitMap.deserialize(blob) for blob in blobs if blob is not None]
