"""Global Privacy Control: a `Sec-GPC: 1` request records the customer's opt-out of sale and sharing.

The signal is recorded once, at the first request that carries it; its time matters to the decision (a
grant to one supplier made after the signal survives it), so repeated signals do not move it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from infomediary.audiences import index as audience_index
from infomediary.consents import repository
from infomediary.consents.models import PrivacySignalRow
from infomediary.database import utcnow
from infomediary.policylog import kinds
from infomediary.policylog.kinds import format_at
from infomediary.policylog.service import append as log_append
from infomediary.policylog.service import log_pseudonym
from infomediary.runtime import Runtime


def record_signal(session: Session, runtime: Runtime, customer_id: str, now: datetime | None = None) -> bool:
    """Record the opt-out (and log it) unless already in force; True when it was newly recorded.

    Two requests carrying the first signal at once record and log it once: the other finds it in force.
    """
    row = session.get(PrivacySignalRow, customer_id)
    if row is not None and row.gpc:
        return False
    now = now or utcnow()
    if not repository.insert_gpc_signal(session, customer_id, now):
        return False
    if row is not None:
        session.expire(row)  # changed behind the identity map's back
    audience_index.population_changed(session)
    log_append(
        session,
        {
            "kind": kinds.CONSENT_REFUSED,
            "at": format_at(now),
            "subject": log_pseudonym(runtime, customer_id),
            "reason": "Global Privacy Control signal: opt-out of sale and sharing",
            "details": {"signal": "sec-gpc", "scope": "sale_and_sharing"},
        },
    )
    return True


def signal_of(session: Session, customer_id: str) -> tuple[bool, datetime | None]:
    row = session.get(PrivacySignalRow, customer_id)
    return (True, row.recorded_at) if row is not None and row.gpc else (False, None)
