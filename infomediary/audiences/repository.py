"""Queries of the audience tables: the consent-gated count and the stored answers of a period."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from consent.decision import SupplierQuery
from infomediary.audiences.models import AudienceAnswerRow, AudienceIndexRow
from infomediary.consents import repository as consents
from infomediary.consents.set_filter import permits


def count_statement(session: Session, query: SupplierQuery, where: ColumnElement[bool]) -> Select[int]:
    """Distinct customers who match `where` in the index and whom the consent decision permits for `query`.

    The index has one row per customer, so `count(*)` counts distinct customers. The consent gate is the
    set form of the decision point (`set_filter.permits`), applied to the index's customer id.
    """
    policy = consents.policy_in_force(session, query.supplier_id, query.now)
    return (
        select(func.count())
        .select_from(AudienceIndexRow)
        .where(where, permits(AudienceIndexRow.customer_id, query, policy, correlated=True))
    )


def true_count(session: Session, query: SupplierQuery, where: ColumnElement[bool]) -> int:
    """The exact count. It never leaves the service: only a noisy answer is released, stored or logged."""
    return int(session.scalar(count_statement(session, query, where)) or 0)


def answer(
    session: Session, supplier_id: str, period_start: datetime, query_key: str
) -> AudienceAnswerRow | None:
    return session.get(AudienceAnswerRow, (supplier_id, period_start, query_key))


def answers_in_period(
    session: Session, supplier_id: str, period_start: datetime
) -> Sequence[AudienceAnswerRow]:
    return session.scalars(
        select(AudienceAnswerRow).where(
            AudienceAnswerRow.supplier_id == supplier_id, AudienceAnswerRow.period_start == period_start
        )
    ).all()
