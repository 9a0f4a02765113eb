"""Queries of the audience tables: the consent-gated count and the stored answers of a period."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from consent.decision import SupplierQuery
from infomediary.audiences.models import AudienceAnswerRow, AudienceIndexRow
from infomediary.consents import repository as consents
from infomediary.consents.set_filter import NOW, PermitGate

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


def answer(
    session: Session, supplier_id: str, period_start: datetime, query_key: str, *, reread: bool = False
) -> AudienceAnswerRow | None:
    """The stored answer; `reread` fetches it again even if this session already holds it."""
    return session.get(AudienceAnswerRow, (supplier_id, period_start, query_key), populate_existing=reread)


def answers_in_period(
    session: Session, supplier_id: str, period_start: datetime
) -> Sequence[AudienceAnswerRow]:
    return session.scalars(
        select(AudienceAnswerRow).where(
            AudienceAnswerRow.supplier_id == supplier_id, AudienceAnswerRow.period_start == period_start
        )
    ).all()
