"""A supplier's webhook endpoints: register, list, read, delete, rotate the secret, read the delivery log.

Every function takes the calling supplier's id and loads endpoints for that supplier only: another
supplier's endpoint is `WebhookNotFound`, exactly like one that does not exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from infomediary.database import WriteSession, utcnow
from infomediary.ids import new_id
from infomediary.runtime import Runtime
from infomediary.webhooks import secret as secrets
from infomediary.webhooks import urls
from infomediary.webhooks.errors import WebhookLimitReached, WebhookNotFound
from infomediary.webhooks.models import WebhookDeliveryRow, WebhookEndpointRow, WebhookEventRow
from infomediary.webhooks.outbox import EVENT_TYPES


@dataclass(frozen=True)
class EndpointView:
    id: str
    url: str
    event_types: list[str]
    description: str | None
    created_at: datetime
    secret_rotated_at: datetime


@dataclass(frozen=True)
class WithSecret:
    endpoint: EndpointView
    secret: str  # shown once, never stored in clear


@dataclass(frozen=True)
class DeliveryView:
    id: int
    event_id: str
    event_type: str
    state: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    finished_at: datetime | None


def _view(row: WebhookEndpointRow) -> EndpointView:
    return EndpointView(
        id=row.id,
        url=row.url,
        event_types=list(row.event_types),
        description=row.description,
        created_at=row.created_at,
        secret_rotated_at=row.secret_rotated_at,
    )


def _own(session: Session, supplier_id: str, endpoint_id: str, *, lock: bool = False) -> WebhookEndpointRow:
    row = session.get(WebhookEndpointRow, endpoint_id, with_for_update=lock)
    if row is None or row.supplier_id != supplier_id:
        raise WebhookNotFound()
    return row


def create(
    session: WriteSession,
    runtime: Runtime,
    supplier_id: str,
    *,
    url: str,
    event_types: Sequence[str],
    description: str | None = None,
) -> WithSecret:
    """Register an endpoint; its secret is returned here once."""
    urls.check(url, urls.UrlPolicy.of(runtime.settings))
    unknown = sorted(set(event_types) - set(EVENT_TYPES))
    if unknown or not event_types:
        raise ValueError(f"unknown event types: {unknown}")
    count = session.scalar(
        select(func.count())
        .select_from(WebhookEndpointRow)
        .where(WebhookEndpointRow.supplier_id == supplier_id)
    )
    limit = runtime.settings.webhook_max_endpoints
    if (count or 0) >= limit:
        raise WebhookLimitReached(f"a supplier may register at most {limit} webhook endpoints")
    now = utcnow()
    row = WebhookEndpointRow(
        id=new_id("whk"),
        supplier_id=supplier_id,
        url=url,
        event_types=sorted(set(event_types)),
        description=description,
        created_at=now,
        secret_rotated_at=now,
    )
    value = secrets.new()
    secrets.seal(runtime, row, value)
    session.add(row)
    session.flush()
    return WithSecret(_view(row), secrets.shown(value))


def list_endpoints(session: Session, supplier_id: str) -> list[EndpointView]:
    rows = session.scalars(
        select(WebhookEndpointRow)
        .where(WebhookEndpointRow.supplier_id == supplier_id)
        .order_by(WebhookEndpointRow.created_at, WebhookEndpointRow.id)
    )
    return [_view(row) for row in rows]


def get(session: Session, supplier_id: str, endpoint_id: str) -> EndpointView:
    return _view(_own(session, supplier_id, endpoint_id))


def delete(session: WriteSession, supplier_id: str, endpoint_id: str) -> None:
    """Remove the endpoint; its undelivered deliveries and its log go with it."""
    session.delete(_own(session, supplier_id, endpoint_id, lock=True))
    session.flush()


def rotate_secret(session: WriteSession, runtime: Runtime, supplier_id: str, endpoint_id: str) -> WithSecret:
    """A new secret, in force for the next attempt: the old one stops signing at once."""
    row = _own(session, supplier_id, endpoint_id, lock=True)
    value = secrets.new()
    secrets.seal(runtime, row, value)
    row.secret_rotated_at = utcnow()
    session.flush()
    return WithSecret(_view(row), secrets.shown(value))


def deliveries(
    session: Session, supplier_id: str, endpoint_id: str, *, cursor: int | None, limit: int
) -> tuple[list[DeliveryView], str | None]:
    """The endpoint's delivery log, newest first; the cursor is the last id seen."""
    _own(session, supplier_id, endpoint_id)
    query = (
        select(WebhookDeliveryRow, WebhookEventRow.event_type)
        .join(WebhookEventRow, WebhookEventRow.id == WebhookDeliveryRow.event_id)
        .where(WebhookDeliveryRow.endpoint_id == endpoint_id)
    )
    if cursor is not None:
        query = query.where(WebhookDeliveryRow.id < cursor)
    rows = session.execute(query.order_by(WebhookDeliveryRow.id.desc()).limit(limit + 1)).all()
    page = [
        DeliveryView(
            id=row.id,
            event_id=row.event_id,
            event_type=event_type,
            state=row.state,
            attempts=row.attempts,
            last_status_code=row.last_status_code,
            last_error=row.last_error,
            created_at=row.created_at,
            last_attempt_at=row.last_attempt_at,
            next_attempt_at=row.next_attempt_at,
            finished_at=row.finished_at,
        )
        for row, event_type in rows[:limit]
    ]
    return page, (str(page[-1].id) if len(rows) > limit else None)
