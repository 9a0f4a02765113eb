"""The one place where the decision's `CustomerContext` is built from storage."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from consent.decision import CustomerContext
from infomediary.consents.models import PrivacySignalRow
from infomediary.consents.repository import privacy_signal, privacy_signals
from infomediary.profiles import restriction


def customer_context(session: Session, customer_id: str, now: datetime) -> CustomerContext:
    """Restriction and the Global Privacy Control signal of one customer, as `decide()` reads them.

    `now` is part of the signature so that time-dependent facts (a restriction with an end date) can be
    added without touching callers.
    """
    return _context(
        customer_id,
        privacy_signal(session, customer_id),
        restriction.is_restricted(session, customer_id),
        now,
    )


def customer_contexts(
    session: Session, customer_ids: Sequence[str], now: datetime
) -> dict[str, CustomerContext]:
    """`customer_context` for many customers in a few queries."""
    signals = privacy_signals(session, customer_ids)
    restricted = restriction.restricted_among(session, customer_ids)
    return {cid: _context(cid, signals.get(cid), cid in restricted, now) for cid in customer_ids}


def _context(
    customer_id: str, signal: PrivacySignalRow | None, restricted: bool, now: datetime
) -> CustomerContext:
    gpc = signal is not None and signal.gpc and signal.recorded_at <= now
    return CustomerContext(
        customer_id=customer_id,
        restricted=restricted,
        gpc=gpc,
        gpc_recorded_at=signal.recorded_at if gpc and signal is not None else None,
    )
