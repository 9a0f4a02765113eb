"""Global Privacy Control: a `Sec-GPC: 1` request records the customer's opt-out of sale and sharing.

The signal is recorded once, at the first request that carries it; its time matters to the decision (a
grant to one supplier made after the signal survives it), so repeated signals do not move it. Recording it
takes two steps here, `store_signal` and `log_signal`, so that `flows.consent_changed.record_gpc` can retire
cached audience answers between them, before the log entry, as every consent change does.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from infomediary.consents import repository
from infomediary.consents.models import PrivacySignalRow
from infomediary.database import WriteSession
from infomediary.policylog import kinds
from infomediary.policylog.kinds import format_at
from infomediary.policylog.service import append as log_append
from infomediary.policylog.service import log_pseudonym
from infomediary.runtime import Runtime


def store_signal(session: WriteSession, customer_id: str, now: datetime) -> bool:
    """Record the opt-out unless already in force; True when it was newly recorded (then log it).

    Two requests carrying the first signal at once record it once: the other finds it in force.
    """
    row = session.get(PrivacySignalRow, customer_id)
    if row is not None and row.gpc:
        return False
    if not repository.insert_gpc_signal(session, customer_id, now):
        return False
    if row is not None:
        session.expire(row)  # changed behind the identity map's back
    return True


def log_signal(session: WriteSession, runtime: Runtime, customer_id: str, now: datetime) -> None:
    """The policy-log entry of a newly recorded signal, in the same transaction."""
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


def signal_of(session: Session, customer_id: str) -> tuple[bool, datetime | None]:
    row = session.get(PrivacySignalRow, customer_id)
    return (True, row.recorded_at) if row is not None and row.gpc else (False, None)
