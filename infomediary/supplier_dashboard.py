"""The figures on a supplier's dashboard, read in one round trip: strikes, epsilon left, ledger balance; on
the supplier's own route, in the same round trip as its bearer check."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from infomediary.audiences.budget import budget_milli, period_of
from infomediary.audiences.models import EpsilonLedgerRow
from infomediary.audiences.noise import MILLI
from infomediary.database import PreparedRead
from infomediary.ledger.models import LedgerAccount, OwnerKind
from infomediary.oauth.bearer import CLIENT_STATE, BearerAuthenticator, Principal
from infomediary.oauth.models import ClientKind, OAuthClient
from infomediary.sanctions.models import SanctionKind, SupplierSanction
from infomediary.settings import Settings


@dataclass(frozen=True)
class Figures:
    strikes: int
    epsilon_remaining: float
    ledger_balance: int
    credit_line: int


def _figure_columns(
    supplier_id: ColumnElement[Any] | InstrumentedAttribute[Any],
) -> tuple[ColumnElement[Any], ...]:
    """Strikes, epsilon spent this period (`:period_start`) and ledger balance of `supplier_id`, each a scalar
    subquery on an index."""
    strikes = (
        select(func.count())
        .select_from(SupplierSanction)
        .where(
            SupplierSanction.supplier_id == supplier_id, SupplierSanction.kind == SanctionKind.STRIKE.value
        )
        .scalar_subquery()
    )
    spent = (
        select(EpsilonLedgerRow.spent_milli)
        .where(
            EpsilonLedgerRow.supplier_id == supplier_id,
            EpsilonLedgerRow.period_start == bindparam("period_start"),
        )
        .scalar_subquery()
    )
    balance = (
        select(LedgerAccount.balance)
        .where(LedgerAccount.owner_kind == OwnerKind.SUPPLIER.value, LedgerAccount.owner_id == supplier_id)
        .scalar_subquery()
    )
    return strikes, func.coalesce(spent, 0), func.coalesce(balance, 0)


# Built once with bind parameters: constructing these subqueries costs more than running them, and the
# supplier's own route is on the benchmarked path.
_FIGURES = PreparedRead(select(*_figure_columns(bindparam("supplier_id"))))
_CALLER_AND_FIGURES = PreparedRead(CLIENT_STATE.add_columns(*_figure_columns(OAuthClient.supplier_id)))


def figures(session: Session, settings: Settings, supplier_id: str, status: str, now: datetime) -> Figures:
    """One SELECT of three scalar subqueries: one extra round trip only."""
    period_start = period_of(now, settings).start
    row = _FIGURES.first(session, {"supplier_id": supplier_id, "period_start": period_start})
    assert row is not None  # scalar subqueries: always one row
    return _figures(row, settings, status)


def caller_and_figures(
    session: Session, authenticator: BearerAuthenticator, token: str, settings: Settings, now: datetime
) -> tuple[Principal, Figures]:
    """The calling supplier (authenticated as every route authenticates it) and its figures, in one round
    trip: the bearer check's statement with the figures' subqueries added."""
    principal, added = authenticator.authenticate_with(
        session, token, _CALLER_AND_FIGURES, {"period_start": period_of(now, settings).start}
    )
    principal.require(ClientKind.SUPPLIER)
    return principal, _figures(added, settings, principal.owner_status)


def _figures(row: Sequence[Any], settings: Settings, status: str) -> Figures:
    strikes, spent, balance = row
    remaining = max(0, budget_milli(settings, status) - int(spent))
    return Figures(
        strikes=int(strikes),
        epsilon_remaining=remaining / MILLI,
        ledger_balance=int(balance),
        credit_line=settings.supplier_credit_line,
    )
