"""The customer recorded their own activity: purchases move the RFM bands of their audience-index row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from infomediary.database import WriteSession
from infomediary.flows import profile_changed
from infomediary.profiles import activity
from infomediary.runtime import Runtime


def record_activity(session: WriteSession, runtime: Runtime, customer_id: str, records: Sequence[Any]) -> int:
    """Seal and store validated records (``records.ActivityIn``); returns how many."""
    recorded = activity.record(session, runtime, customer_id, records)
    if any(item.kind == "purchase" for item in records):
        profile_changed.reindex(session, runtime, customer_id)
    return recorded
