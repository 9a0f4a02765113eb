"""A supplier published a privacy policy: a wider one invalidates older consents, with their consequences."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from consent.vocabulary import Category, Purpose
from infomediary.consents import policies
from infomediary.database import WriteSession
from infomediary.flows.consent_changed import records_left
from infomediary.runtime import Runtime


def publish_policy(
    session: WriteSession,
    runtime: Runtime,
    supplier_id: str,
    *,
    purposes: Iterable[Purpose],
    categories: Iterable[Category],
    policy_url: str | None,
    now: datetime | None = None,
) -> policies.Published:
    return policies.publish(
        session,
        runtime,
        supplier_id,
        purposes=purposes,
        categories=categories,
        policy_url=policy_url,
        now=now,
        on_leaving=records_left,
    )
