"""Individual privacy accounting in the database: a release admits the customers the filter lets in and
charges them, in the release's transaction; a customer's account is read back, supplier by supplier.

The tally row of the period is locked (`FOR UPDATE`; SQLite's writing transaction holds the database) from
the admission to the commit, so two releases at once cannot both spend the last of one customer's budget.
The lock is one row for every supplier's releases: fresh DP releases queue on it (repeated, cached answers
do not take it). Callers hold a supplier's budget lock first and this one second, always in that order.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from pyroaring import BitMap
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from infomediary.database import WriteSession, require_writable, upsert_insert
from infomediary.ids import new_id
from infomediary.privacy_loss import filter as privacy_filter
from infomediary.privacy_loss.models import PrivacyLossCap, PrivacyLossTally, PrivacyReleaseRow
from infomediary.suppliers.models import Supplier


def _decode(blob: bytes | None) -> privacy_filter.Losses:
    if not blob:
        return np.zeros(0, dtype=np.uint32)
    return np.frombuffer(zlib.decompress(blob), dtype="<u4").astype(np.uint32)


def _encode(losses: privacy_filter.Losses) -> bytes:
    # Level 1: the array is mostly zeros and small repeated values, and this runs inside the lock.
    return zlib.compress(losses.astype("<u4").tobytes(), 1)


def _locked_tally(session: WriteSession, period_start: datetime) -> PrivacyLossTally:
    require_writable(session)
    opened = session.execute(
        upsert_insert(session, PrivacyLossTally)
        .values(period_start=period_start, losses=_encode(np.zeros(0, dtype=np.uint32)))
        .on_conflict_do_nothing()
    )
    if opened.rowcount:  # type: ignore[attr-defined]
        # The period's first release: earlier periods' losses and releases are over (accounts are per
        # period) and name customers by number; dropped now rather than kept for ever.
        session.execute(delete(PrivacyReleaseRow).where(PrivacyReleaseRow.period_start < period_start))
        session.execute(delete(PrivacyLossTally).where(PrivacyLossTally.period_start < period_start))
    return session.scalars(
        select(PrivacyLossTally)
        .where(PrivacyLossTally.period_start == period_start)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def release(
    session: WriteSession,
    *,
    supplier_id: str,
    period_start: datetime,
    kind: str,
    epsilon_milli: int,
    members: BitMap,
    default_cap_milli: int,
    caps: Mapping[int, int],
    now: datetime,
) -> BitMap:
    """Admit to a release of `epsilon_milli` the `members` whose loss stays within their cap, charge each of
    them, and record the release; the admitted members (the release's population from now on)."""
    tally = _locked_tally(session, period_start)
    losses, admitted = privacy_filter.admit(
        _decode(tally.losses), members, epsilon_milli, default_cap_milli, caps
    )
    tally.losses = _encode(losses)
    tally.updated_at = now
    session.add(
        PrivacyReleaseRow(
            id=new_id("rls"),
            supplier_id=supplier_id,
            period_start=period_start,
            kind=kind,
            epsilon_milli=epsilon_milli,
            members=admitted.serialize(),
            created_at=now,
        )
    )
    session.flush()
    return admitted


@dataclass(frozen=True)
class SupplierShare:
    supplier_id: str
    supplier_name: str
    spent_milli: int
    releases: int


@dataclass(frozen=True)
class Account:
    """One customer's privacy loss in one period: in total, by supplier, and against her cap."""

    period_start: datetime
    spent_milli: int
    cap_milli: int
    own_cap: bool
    by_supplier: list[SupplierShare]

    @property
    def remaining_milli(self) -> int:
        return max(0, self.cap_milli - self.spent_milli)

    @property
    def reached(self) -> bool:
        return self.spent_milli >= self.cap_milli


def cap_of(session: Session, customer_id: str, default_cap_milli: int) -> tuple[int, bool]:
    """The customer's cap in milli-epsilon, and whether it is her own (not the operator's default)."""
    own = session.scalar(select(PrivacyLossCap.cap_milli).where(PrivacyLossCap.customer_id == customer_id))
    return (default_cap_milli, False) if own is None else (int(own), True)


def account(
    session: Session,
    *,
    customer_id: str,
    member_no: int | None,
    period_start: datetime,
    default_cap_milli: int,
) -> Account:
    """The customer's account for the period: her total from the tally, itemised from the releases."""
    cap, own = cap_of(session, customer_id, default_cap_milli)
    if member_no is None:
        return Account(period_start, 0, cap, own, [])
    blob = session.scalar(
        select(PrivacyLossTally.losses).where(PrivacyLossTally.period_start == period_start)
    )
    losses = _decode(blob)
    spent = int(losses[member_no]) if member_no < len(losses) else 0
    shares: dict[str, list[int]] = {}
    rows = session.execute(
        select(
            PrivacyReleaseRow.supplier_id, PrivacyReleaseRow.epsilon_milli, PrivacyReleaseRow.members
        ).where(PrivacyReleaseRow.period_start == period_start)
    )
    for supplier_id, epsilon_milli, members in rows:
        if member_no in BitMap.deserialize(members):
            share = shares.setdefault(supplier_id, [0, 0])
            share[0] += int(epsilon_milli)
            share[1] += 1
    named = session.execute(select(Supplier.id, Supplier.name).where(Supplier.id.in_(list(shares))))
    names: dict[str, str] = {str(sid): str(name) for sid, name in named}
    by_supplier = sorted(
        (SupplierShare(sid, names.get(sid, sid), spent_milli, n) for sid, (spent_milli, n) in shares.items()),
        key=lambda s: (-s.spent_milli, s.supplier_name),
    )
    return Account(period_start, spent, cap, own, by_supplier)


def set_cap(session: WriteSession, customer_id: str, cap_milli: int | None, now: datetime) -> None:
    """Set the customer's own cap, or (None) go back to the operator's default."""
    require_writable(session)
    if cap_milli is None:
        session.execute(delete(PrivacyLossCap).where(PrivacyLossCap.customer_id == customer_id))
        return
    statement = upsert_insert(session, PrivacyLossCap).values(
        customer_id=customer_id, cap_milli=cap_milli, updated_at=now
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["customer_id"], set_={"cap_milli": cap_milli, "updated_at": now}
        )
    )
