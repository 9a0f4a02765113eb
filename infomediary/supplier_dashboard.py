"""The figures on a supplier's dashboard, read in one round trip: strikes, epsilon left, ledger balance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from infomediary.audiences.budget import budget_milli, period_of
from infomediary.audiences.models import EpsilonLedgerRow
from infomediary.audiences.noise import MILLI
from infomediary.ledger.models import LedgerAccount, OwnerKind
from infomediary.sanctions.models import SanctionKind, SupplierSanction
from infomediary.settings import Settings


@dataclass(frozen=True)
class Figures:
    strikes: int
    epsilon_remaining: float
    ledger_balance: int
    credit_line: int


# Built once with bind parameters: constructing these subqueries costs more than running them, and this
# route is on the benchmarked path.
_STRIKES = (
    select(func.count())
    .select_from(SupplierSanction)
    .where(
        SupplierSanction.supplier_id == bindparam("supplier_id"),
        SupplierSanction.kind == SanctionKind.STRIKE.value,
    )
    .scalar_subquery()
)
_SPENT = (
    select(EpsilonLedgerRow.spent_milli)
    .where(
        EpsilonLedgerRow.supplier_id == bindparam("supplier_id"),
        EpsilonLedgerRow.period_start == bindparam("period_start"),
    )
    .scalar_subquery()
)
_BALANCE = (
    select(LedgerAccount.balance)
    .where(
        LedgerAccount.owner_kind == OwnerKind.SUPPLIER.value,
        LedgerAccount.owner_id == bindparam("supplier_id"),
    )
    .scalar_subquery()
)
_FIGURES = select(_STRIKES, func.coalesce(_SPENT, 0), func.coalesce(_BALANCE, 0))


def figures(session: Session, settings: Settings, supplier_id: str, status: str, now: datetime) -> Figures:
    """One SELECT of three scalar subqueries: one extra round trip only."""
    row = session.execute(
        _FIGURES, {"supplier_id": supplier_id, "period_start": period_of(now, settings).start}
    ).one()
    remaining = max(0, budget_milli(settings, status) - int(row[1]))
    return Figures(
        strikes=int(row[0]),
        epsilon_remaining=remaining / MILLI,
        ledger_balance=int(row[2]),
        credit_line=settings.supplier_credit_line,
    )
