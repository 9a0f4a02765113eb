"""The transactional outbox: events are written in the transaction of the change they report.

`emit` asks the decision point, for each supplier subscribed to the event type, whether this customer's data
may go to that supplier for the event's purpose; each decision is logged in the same transaction. Only an
explicit grant counts (deny by default): a default "opt-out" permit is not enough to tell a supplier, in
real time, that one of its pseudonymous customers did something. A permitted event gets one outbox row per
supplier and one delivery row per subscribed endpoint; nothing is sent here (see `delivery`).

`drop_withdrawn` runs when a customer withdraws or refuses consent (`flows.consent_changed`): undelivered
events that consent no longer permits are dropped at once, in the withdrawal's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent.decision import Decision, Reason, SupplierQuery
from consent.vocabulary import Category, Purpose, ReleaseKind
from infomediary.consents.decision_point import decide_for, evaluate, supplier_query
from infomediary.database import WriteSession, utcnow
from infomediary.ids import new_id
from infomediary.pseudonyms.service import issue
from infomediary.runtime import Runtime
from infomediary.suppliers.models import Supplier, SupplierStatus
from infomediary.webhooks.models import (
    DeliveryState,
    WebhookDeliveryRow,
    WebhookEndpointRow,
    WebhookEventRow,
)

OFFER_ACCEPTED: Final = "offer.accepted"
REQUEST_ANSWERED: Final = "request.answered"
SEGMENT_RFM_BAND_ROSE: Final = "segment.rfm_band_rose"
EVENT_TYPES: Final = (OFFER_ACCEPTED, REQUEST_ANSWERED, SEGMENT_RFM_BAND_ROSE)
# An event tells a supplier something about one customer under its pseudonym: a pseudonymous release.
RELEASE_KIND: Final = ReleaseKind.PSEUDONYMOUS_SLICE
DROPPED_REASON: Final = "consent no longer permits this event"
SUSPENDED_REASON: Final = "the supplier is suspended"


def permits(decision: Decision) -> bool:
    return decision.permitted and decision.reason is Reason.PERMITTED_BY_CONSENT


def _subscribed(
    session: Session, event_type: str, supplier_ids: Iterable[str] | None
) -> dict[str, list[WebhookEndpointRow]]:
    # A suspended supplier's tokens stop working at once; so do its events.
    query = (
        select(WebhookEndpointRow)
        .join(Supplier, Supplier.id == WebhookEndpointRow.supplier_id)
        .where(Supplier.status != SupplierStatus.SUSPENDED.value)
        .order_by(WebhookEndpointRow.id)
    )
    if supplier_ids is not None:
        query = query.where(WebhookEndpointRow.supplier_id.in_(list(supplier_ids)))
    found: dict[str, list[WebhookEndpointRow]] = {}
    # Filtered here, not in SQL: JSON containment differs between backends, and the rows are few
    # (bounded per supplier by `webhook_max_endpoints`).
    for row in session.scalars(query):
        if event_type in row.event_types:
            found.setdefault(row.supplier_id, []).append(row)
    return found


def emit(
    session: WriteSession,
    runtime: Runtime,
    *,
    event_type: str,
    customer_id: str,
    purpose: Purpose,
    categories: Iterable[Category],
    data: Mapping[str, Any],
    supplier_ids: Iterable[str] | None = None,
    now: datetime | None = None,
) -> list[str]:
    """Write the event for every subscribed supplier the customer's consent permits; returns event ids.

    `supplier_ids` limits the event to the suppliers it concerns (an offer's, a request's); None means every
    subscribed supplier (a segment entered).
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    now = now or utcnow()
    wanted = list(categories)
    emitted: list[str] = []
    for supplier_id, endpoints in sorted(_subscribed(session, event_type, supplier_ids).items()):
        query = supplier_query(
            session,
            supplier_id=supplier_id,
            purpose=purpose,
            categories=wanted,
            release_kind=RELEASE_KIND,
            now=now,
        )
        if not permits(decide_for(session, runtime, customer_id, query)):
            continue
        # Recorded as handed to this supplier, so its later requests can name the customer by it.
        issue(session, runtime, supplier_id, customer_id)
        event = WebhookEventRow(
            id=new_id("msg"),
            supplier_id=supplier_id,
            customer_id=customer_id,
            event_type=event_type,
            purpose=purpose.value,
            categories=[c.value for c in wanted],
            data=dict(data),
            occurred_at=now,
        )
        session.add(event)
        session.flush()
        session.add_all(
            WebhookDeliveryRow(
                endpoint_id=endpoint.id,
                event_id=event.id,
                state=DeliveryState.PENDING.value,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
            for endpoint in endpoints
        )
        emitted.append(event.id)
    session.flush()
    return emitted


def event_query(session: Session, event: WebhookEventRow, now: datetime) -> SupplierQuery:
    return supplier_query(
        session,
        supplier_id=event.supplier_id,
        purpose=Purpose(event.purpose),
        categories=[Category(c) for c in event.categories],
        release_kind=RELEASE_KIND,
        now=now,
    )


def drop_withdrawn(session: WriteSession, customer_id: str, now: datetime | None = None) -> int:
    """Drop this customer's undelivered events that consent no longer permits; returns deliveries dropped.

    Not logged as decisions: nothing is released here, and the withdrawal itself is in the log.
    """
    now = now or utcnow()
    pending = session.execute(
        select(WebhookDeliveryRow, WebhookEventRow)
        .join(WebhookEventRow, WebhookEventRow.id == WebhookDeliveryRow.event_id)
        .where(
            WebhookEventRow.customer_id == customer_id,
            WebhookDeliveryRow.state == DeliveryState.PENDING.value,
        )
    ).all()
    verdicts: dict[str, bool] = {}
    dropped = 0
    for delivery, event in pending:
        if event.id not in verdicts:
            verdicts[event.id] = permits(evaluate(session, customer_id, event_query(session, event, now)))
        if not verdicts[event.id]:
            delivery.state = DeliveryState.DROPPED.value
            delivery.last_error = DROPPED_REASON
            delivery.next_attempt_at = None
            delivery.finished_at = now
            dropped += 1
    session.flush()
    return dropped
