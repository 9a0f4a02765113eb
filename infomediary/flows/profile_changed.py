"""The customer's vault changed: their audience-index row follows, and a segment entered is an event.

`reindex` is the consequence every vault change shares (a profile correction, recorded purchases, a lifted
restriction, the demo's interactive customer); `update_profile` is the profile correction itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from consent.vocabulary import Category, Purpose
from infomediary.audiences import index as audience_index
from infomediary.database import WriteSession, utcnow
from infomediary.profiles import service as profiles
from infomediary.profiles.datakeys import CustomerCipher
from infomediary.runtime import Runtime
from infomediary.webhooks import outbox


def reindex(session: WriteSession, runtime: Runtime, customer_id: str, now: datetime | None = None) -> None:
    """Recompute the customer's index row; a consented customer whose RFM band rose is a segment event."""
    now = now or utcnow()
    if audience_index.refresh(session, runtime, customer_id, now):
        outbox.emit(
            session,
            runtime,
            event_type=outbox.SEGMENT_RFM_BAND_ROSE,
            customer_id=customer_id,
            purpose=Purpose.MARKETING,
            categories=[Category.PURCHASES],
            data={"segment": "rfm_band_rose"},
            now=now,
        )


def apply_changes(
    session: WriteSession,
    runtime: Runtime,
    customer_id: str,
    changes: Mapping[str, Any],
    *,
    actor: profiles.Actor = "customer",
    now: datetime | None = None,
    cipher: CustomerCipher | None = None,
) -> None:
    """Apply ``changes`` (null clears a field) and bring the customer's index row up to date."""
    now = now or utcnow()
    if profiles.apply_changes(session, runtime, customer_id, changes, actor=actor, now=now, cipher=cipher):
        reindex(session, runtime, customer_id, now)


def update_profile(
    session: WriteSession,
    runtime: Runtime,
    customer_id: str,
    changes: Mapping[str, Any],
    *,
    actor: profiles.Actor = "customer",
    now: datetime | None = None,
    cipher: CustomerCipher | None = None,
) -> list[profiles.FieldView]:
    """`apply_changes`, then the whole profile as the customer sees it."""
    apply_changes(session, runtime, customer_id, changes, actor=actor, now=now, cipher=cipher)
    return profiles.read_profile(session, runtime, customer_id)
