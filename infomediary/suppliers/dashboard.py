"""The figures on a supplier's dashboard, read in one round trip: strikes, epsilon left, ledger balance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
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


def figures(session: Session, settings: Settings, supplier_id: str, status: str, now: datetime) -> Figures:
    """One SELECT of three scalar subqueries: the route is benchmarked, so one extra round trip only."""
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
            EpsilonLedgerRow.period_start == period_of(now, settings).start,
        )
        .scalar_subquery()
    )
    balance = (
        select(LedgerAccount.balance)
        .where(LedgerAccount.owner_kind == OwnerKind.SUPPLIER.value, LedgerAccount.owner_id == supplier_id)
        .scalar_subquery()
    )
    row = session.execute(select(strikes, func.coalesce(spent, 0), func.coalesce(balance, 0))).one()
    remaining = max(0, budget_milli(settings, status) - int(row[1]))
    return Figures(
        strikes=int(row[0]),
        epsilon_remaining=remaining / MILLI,
        ledger_balance=int(row[2]),
        credit_line=settings.supplier_credit_line,
    )
