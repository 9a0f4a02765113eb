"""Queries of the audience tables: the consent-gated count and the stored answers of a period."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, false, func, or_, select
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


def count_statement(
    session: Session, query: SupplierQuery, where: ColumnElement[bool]
) -> tuple[Select[int], dict[str, Any]]:
    """Distinct customers who match `where` in the index and whom the consent decision permits for `query`,
    as a statement and the parameters it MUST be executed with (the decision time).

    The index has one row per customer, so `count(*)` counts distinct customers. The consent gate is the
    set form of the decision point (`set_filter.permits`), applied to the index's customer id.
    """
    policy = consents.policy_in_force(session, query.supplier_id, query.now)
    statement = select(func.count()).select_from(AudienceIndexRow).where(where, _GATE(query, policy))
    return statement, {NOW: query.now}


def true_count(session: Session, query: SupplierQuery, where: ColumnElement[bool]) -> int:
    """The exact count. It never leaves the service: only a noisy answer is released, stored or logged."""
    statement, parameters = count_statement(session, query, where)
    return int(session.scalar(statement, parameters) or 0)


def _matched(where: ColumnElement[bool]) -> ColumnElement[bool]:
    # A positive condition on an unknown (NULL) value is NULL, not false (see `predicate.compile_where`):
    # made false here, so that "matched by one query and not the other" is never lost to a NULL.
    return func.coalesce(where, false())


def count_and_differences(
    session: Session, query: SupplierQuery, where: ColumnElement[bool], earlier: Sequence[ColumnElement[bool]]
) -> tuple[int, list[int]]:
    """The exact count of `where`, and for each of the `earlier` predicates how many customers one of the two
    matches and the other does not (the symmetric difference), all over the population `query` may see.

    One scan for all of them: each difference is a `count(*) FILTER` on the rows either query matches.
    Like the true count, the differences never leave the service (`audiences.differencing` reads them).
    """
    if not earlier:
        return true_count(session, query, where), []
    policy = consents.policy_in_force(session, query.supplier_id, query.now)
    new = _matched(where)
    statement = (
        select(
            func.count().filter(new),
            *(func.count().filter(new != _matched(old)) for old in earlier),
        )
        .select_from(AudienceIndexRow)
        .where(or_(where, *earlier), _GATE(query, policy))
    )
    counts = session.execute(statement, {NOW: query.now}).one()
    return int(counts[0]), [int(c) for c in counts[1:]]


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


def recent_predicates(
    session: Session, supplier_id: str, period_start: datetime, limit: int, *, besides: str
) -> list[str]:
    """The canonical predicates of the supplier's `limit` most recent stored answers of the period (counts
    and offers' audiences alike), but for the query `besides` (the one being answered)."""
    if limit <= 0:
        return []
    a = AudienceAnswerRow
    rows = session.scalars(
        select(a.predicate)
        .where(a.supplier_id == supplier_id, a.period_start == period_start, a.query_key != besides)
        .order_by(a.created_at.desc(), a.query_key)
        .limit(limit)
    )
    return list(rows)
