"""When consent comes to permit less, its consequence runs then, inside the consent service's call."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent.records import ConsentState
from consent.vocabulary import Category, Purpose
from infomediary.consents import service as consents
from infomediary.consents.models import ConsentRecordRow
from infomediary.database import unit_of_work, utcnow
from infomediary.runtime import Runtime
from tests.fixtures.audiences import supplier_with_policy
from tests.fixtures.population import make_customers


def test_a_lapsed_grant_given_again_is_followed_up_at_the_lapse_before_the_new_grant(
    runtime: Runtime,
) -> None:
    supplier_id = supplier_with_policy(runtime)
    [customer_id] = make_customers(runtime, 1)
    start = utcnow()
    seen: list[tuple[list[str], list[str]]] = []

    def on_leaving(session: Session, customer_ids: Sequence[str]) -> None:
        # What the consequence sees: the records as they stand when it runs.
        states = session.scalars(
            select(ConsentRecordRow.state).where(ConsentRecordRow.customer_id == customer_id)
        )
        seen.append((list(customer_ids), list(states)))

    def grant(session: Session, **extra: Any) -> None:
        consents.answer(
            session,
            runtime,
            customer_id,
            state=ConsentState.GIVEN,
            supplier_id=supplier_id,
            purpose=Purpose.MARKETING,
            categories=[Category.PURCHASES],
            on_leaving=on_leaving,
            **extra,
        )

    with unit_of_work(runtime.session_factory) as session:
        grant(session, expires_at=start + timedelta(hours=1), now=start)
    assert seen == []

    with unit_of_work(runtime.session_factory) as session:
        grant(session, now=start + timedelta(hours=2))
        [state] = session.scalars(
            select(ConsentRecordRow.state).where(ConsentRecordRow.customer_id == customer_id)
        )

    # Once, for the lapse, while the record read as expired; the new grant itself narrows nothing.
    assert seen == [([customer_id], [ConsentState.EXPIRED.value])]
    assert state == ConsentState.GIVEN.value
