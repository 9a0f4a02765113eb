"""The one place where the decision's `CustomerContext` is built from storage."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from consent.decision import CustomerContext
from infomediary.consents.repository import privacy_signal
from infomediary.profiles import restriction


def customer_context(session: Session, customer_id: str, now: datetime) -> CustomerContext:
    """Restriction and the Global Privacy Control signal of one customer, as `decide()` reads them.

    `now` is part of the signature so that time-dependent facts (a restriction with an end date) can be
    added without touching callers.
    """
    signal = privacy_signal(session, customer_id)
    gpc = signal is not None and signal.gpc and signal.recorded_at <= now
    return CustomerContext(
        customer_id=customer_id,
        restricted=restriction.is_restricted(session, customer_id),
        gpc=gpc,
        gpc_recorded_at=signal.recorded_at if gpc and signal is not None else None,
    )
