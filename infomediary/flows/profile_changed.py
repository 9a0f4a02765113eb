"""The customer's vault changed: their audience-index row follows, and a segment entered is an event.

`reindex` is the consequence every vault change shares (a profile correction, recorded purchases, a lifted
restriction, the demo's interactive customer); `update_profile` is the profile correction itself, in which
a new email address only asks for its confirmation (`login_email_changed`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from consent.vocabulary import Category, Purpose
from infomediary.audiences import index as audience_index
from infomediary.database import WriteSession, utcnow
from infomediary.flows import login_email_changed
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


@dataclass(frozen=True)
class ProfileUpdated:
    fields: list[profiles.FieldView]
    # A new email address waits for the link mailed to it: told alike whether or not the address is free.
    email_confirmation_mailed: bool


def update_profile(
    session: WriteSession,
    runtime: Runtime,
    customer_id: str,
    changes: Mapping[str, Any],
    *,
    actor: profiles.Actor = "customer",
    now: datetime | None = None,
    cipher: CustomerCipher | None = None,
) -> ProfileUpdated:
    """The customer's correction, then the whole profile as she sees it. Every field but `email` changes
    at once; a new `email` is the login's too, and changes only once its link is followed."""
    now = now or utcnow()
    # Everything validated first (a cleared email included): a refusal changes nothing and mails nobody.
    values = profiles.validate_changes(changes)
    mailed = False
    if "email" in values and login_email_changed.ask(
        session, runtime, customer_id, values["email"], cipher=cipher, now=now
    ):
        del values["email"]
        mailed = True
    apply_changes(session, runtime, customer_id, values, actor=actor, now=now, cipher=cipher)
    return ProfileUpdated(
        fields=profiles.read_profile(session, runtime, customer_id), email_confirmation_mailed=mailed
    )
