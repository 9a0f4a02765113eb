"""The customer restricted processing, or lifted the restriction: their audience-index row goes, or returns.

A restricted customer is out of every count before the response returns, whatever their consents say.
"""

from __future__ import annotations

from datetime import datetime

from infomediary.audiences import index as audience_index
from infomediary.database import WriteSession
from infomediary.flows import profile_changed
from infomediary.profiles import restriction
from infomediary.runtime import Runtime


def restrict(
    session: WriteSession, customer_id: str, now: datetime | None = None
) -> restriction.RestrictionView:
    """Idempotent: restricting again keeps the original time (and the customer stays out of the index)."""
    view = restriction.restrict(session, customer_id, now)
    audience_index.remove(session, customer_id)
    return view


def lift(session: WriteSession, runtime: Runtime, customer_id: str) -> restriction.RestrictionView:
    view = restriction.lift(session, customer_id)
    profile_changed.reindex(session, runtime, customer_id)
    return view
