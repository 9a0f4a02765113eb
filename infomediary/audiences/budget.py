"""The per-supplier epsilon budget: integer milli-epsilon spent per fixed period, charged atomically.

Periods are aligned to the Unix epoch (`period_start = floor(now / length) * length`), so every worker agrees
on when a budget resets without any scheduled job. The ledger row is locked for the rest of the transaction
(`FOR UPDATE` on PostgreSQL; SQLite's writing transactions hold the database lock), so two concurrent counts
cannot both spend the last of a budget. A charge is an increment made by the database
(`spent_milli = spent_milli + :cost`), never a total computed from an earlier read and written back: were
the lock ever lost (a read session, autocommit), concurrent charges would still all count. A throttled
supplier's budget is cut to `throttled_epsilon_fraction` of the full one: the status machine's "throttle" is
fewer fresh counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Integer, and_, bindparam, delete, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from infomediary.audiences.errors import BudgetExhausted
from infomediary.audiences.models import AudienceAnswerRow, EpsilonLedgerRow
from infomediary.audiences.noise import MILLI
from infomediary.audiences.standing import Standing
from infomediary.database import UTCDateTime, WriteSession, require_writable, upsert_insert
from infomediary.settings import Settings
from infomediary.suppliers.models import Supplier, SupplierStatus


@dataclass(frozen=True)
class Period:
    start: datetime
    resets_at: datetime


def period_of(now: datetime, settings: Settings) -> Period:
    length = settings.audience_budget_period_seconds
    start = datetime.fromtimestamp(math.floor(now.timestamp() / length) * length, UTC)
    return Period(start, start + timedelta(seconds=length))


def budget_milli(settings: Settings, status: str = SupplierStatus.ACTIVE.value) -> int:
    """The period's budget; a throttled supplier (see `sanctions.status`) gets only a fraction of it."""
    full = settings.audience_epsilon_budget * MILLI
    if status == SupplierStatus.THROTTLED.value:
        return round(full * settings.throttled_epsilon_fraction)
    return round(full)


@dataclass
class Ledger:
    """The supplier's ledger row for the current period, locked until the transaction ends."""

    row: EpsilonLedgerRow
    budget_milli: int
    period: Period

    @property
    def remaining_milli(self) -> int:
        return max(0, self.budget_milli - self.row.spent_milli)

    @property
    def standing(self) -> Standing:
        return Standing(self.remaining_milli, self.period.resets_at)


def open_ledger(session: WriteSession, supplier_id: str, now: datetime, settings: Settings) -> Ledger:
    """Lock (creating if need be) the supplier's ledger row for the period containing `now`.

    Taking the lock first serialises one supplier's counts, so a repeated query finds the answer its twin
    stored instead of both spending budget.
    """
    require_writable(session)
    period = period_of(now, settings)
    opened = session.execute(
        upsert_insert(session, EpsilonLedgerRow)
        .values(supplier_id=supplier_id, period_start=period.start, spent_milli=0)
        .on_conflict_do_nothing()
    )
    if opened.rowcount:  # type: ignore[attr-defined]
        # The supplier's first spend of a period: what it kept of earlier periods is no use any more (a
        # stored answer is served only within its period) and holds sets of customers; dropped now.
        session.execute(
            delete(AudienceAnswerRow).where(
                AudienceAnswerRow.supplier_id == supplier_id, AudienceAnswerRow.period_start < period.start
            )
        )
    row = session.scalars(
        select(EpsilonLedgerRow)
        .where(EpsilonLedgerRow.supplier_id == supplier_id, EpsilonLedgerRow.period_start == period.start)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    status = session.scalar(select(Supplier.status).where(Supplier.id == supplier_id))
    return Ledger(row, budget_milli(settings, status or SupplierStatus.ACTIVE.value), period)


def remaining_of(settings: Settings, supplier_status: str | None, spent_milli: int) -> int:
    """What is left of the period's budget of a supplier in this status that spent `spent_milli`."""
    return max(0, budget_milli(settings, supplier_status or SupplierStatus.ACTIVE.value) - spent_milli)


def standing(session: Session, supplier_id: str, now: datetime, settings: Settings) -> Standing:
    """The supplier's budget as it stands, read without a lock: for the headers of an answer whose spend (if
    any) is already made in this transaction."""
    period = period_of(now, settings)
    row = session.execute(
        select(Supplier.status, EpsilonLedgerRow.spent_milli)
        .outerjoin(
            EpsilonLedgerRow,
            and_(EpsilonLedgerRow.supplier_id == Supplier.id, EpsilonLedgerRow.period_start == period.start),
        )
        .where(Supplier.id == supplier_id)
    ).first()
    status, spent = (row.status, row.spent_milli or 0) if row is not None else (None, 0)
    return Standing(remaining_of(settings, status, spent), period.resets_at)


# Built once: the increment happens in the database, on the row the caller has locked.
_SPEND = (
    update(EpsilonLedgerRow)
    .where(
        # Bind names differ from the columns': SQLAlchemy keeps column names for SET values.
        EpsilonLedgerRow.supplier_id == bindparam("row_supplier"),
        EpsilonLedgerRow.period_start == bindparam("row_period", type_=UTCDateTime()),
    )
    .values(spent_milli=EpsilonLedgerRow.spent_milli + bindparam("cost", type_=Integer))
    .returning(EpsilonLedgerRow.spent_milli)
    .execution_options(synchronize_session=False)
)


def _spend(session: WriteSession, ledger: Ledger, cost_milli: int) -> None:
    row = ledger.row
    spent = session.execute(
        _SPEND, {"row_supplier": row.supplier_id, "row_period": row.period_start, "cost": cost_milli}
    ).scalar_one()
    # The row object learns the new total as loaded, not as a change: a flush must never write it back.
    set_committed_value(row, "spent_milli", int(spent))


def charge(session: WriteSession, ledger: Ledger, cost_milli: int, now: datetime) -> None:
    """Spend `cost_milli`, or raise `BudgetExhausted` (429 with Retry-After) and spend nothing.

    No strike: a supplier that reaches its limit has used the budget as meant, and the budget alone already
    bounds what its answers reveal. Attack patterns are struck where they are recognised (differencing).
    """
    if ledger.row.spent_milli + cost_milli > ledger.budget_milli:
        retry_after = max(1, math.ceil((ledger.period.resets_at - now).total_seconds()))
        raise BudgetExhausted(standing=ledger.standing, retry_after=retry_after)
    _spend(session, ledger, cost_milli)


def try_charge(
    session: WriteSession, supplier_id: str, cost_milli: int, now: datetime, settings: Settings
) -> bool:
    """Spend `cost_milli` if the period's budget covers it; False (nothing spent, no strike) otherwise.

    For releases the supplier did not ask for as a query (an offer's statistics drawn afresh): when the
    budget is spent they are not refused, the last released answer simply stays.
    """
    ledger = open_ledger(session, supplier_id, now, settings)
    if ledger.row.spent_milli + cost_milli > ledger.budget_milli:
        return False
    _spend(session, ledger, cost_milli)
    return True


def spend_owed(
    session: WriteSession, supplier_id: str, cost_milli: int, now: datetime, settings: Settings
) -> None:
    """Spend `cost_milli` for an answer already released, even beyond the budget (no strike).

    For a release whose charge was rolled back with the request it belonged to and is written again: the
    answer was drawn when the budget covered it, so its epsilon is owed whatever was spent since.
    """
    _spend(session, open_ledger(session, supplier_id, now, settings), cost_milli)
