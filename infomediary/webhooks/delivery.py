"""Delivering the outbox: claim due deliveries, send them signed, settle the outcome; retries back off.

Three short steps, so no database transaction is open while a receiver is slow:

1. **Claim** (one transaction): due pending deliveries are locked (`SKIP LOCKED` on PostgreSQL, so several
   workers share the work), consent is decided again and logged (a customer who withdrew since the event
   was written is dropped, not sent), the attempt is counted and the delivery leased for
   `webhook_lease_seconds`, so a worker that dies mid-send is retried.
2. **Send** with httpx, no redirects followed, a timeout per attempt. The URL is checked again as it is
   sent (DNS may have changed) and the connection made to an address that check passed (`transport`): a
   refused URL fails the attempt like an unreachable receiver. The body is rebuilt from the event row the
   same way every time, and `webhook-id` is the event id: a receiver de-duplicates retries by it.
3. **Settle** (one transaction): a 2xx marks it delivered; otherwise it is retried after
   `min(base * 2**(attempt-1), max)` seconds times a random factor in [0.5, 1] (jitter), until
   `webhook_max_attempts` attempts were made, when it is marked failed.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
import structlog
from sqlalchemy import select

from infomediary.consents.decision_point import decide_for
from infomediary.database import WriteSession, unit_of_work, utcnow
from infomediary.pseudonyms.service import pseudonym
from infomediary.runtime import Runtime
from infomediary.settings import Settings
from infomediary.suppliers.models import Supplier, SupplierStatus
from infomediary.webhooks import secret as secrets
from infomediary.webhooks import signature, urls
from infomediary.webhooks.errors import WebhookUrlRefused
from infomediary.webhooks.models import (
    DeliveryState,
    WebhookDeliveryRow,
    WebhookEndpointRow,
    WebhookEventRow,
)
from infomediary.webhooks.outbox import DROPPED_REASON, SUSPENDED_REASON, event_query, permits
from infomediary.webhooks.transport import VettedTransport

log = structlog.get_logger(__name__)
MAX_ERROR = 200


def backoff_seconds(attempt: int, settings: Settings, rand: Callable[[], float] = random.random) -> float:
    """How long to wait after failed attempt number `attempt` (1-based)."""
    ceiling = min(
        math.ldexp(settings.webhook_backoff_base_seconds, attempt - 1), settings.webhook_backoff_max_seconds
    )
    return ceiling * (0.5 + 0.5 * rand())


def body(event: WebhookEventRow, supplier_pseudonym: str) -> bytes:
    """The Standard Webhooks payload shape; the only customer reference is the receiver's own pseudonym."""
    document = {
        "type": event.event_type,
        "timestamp": event.occurred_at.isoformat().replace("+00:00", "Z"),
        "data": {**event.data, "pseudonym": supplier_pseudonym},
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


@dataclass(frozen=True)
class Claimed:
    delivery_id: int
    attempt: int
    event_id: str
    url: str
    body: bytes = field(repr=False)
    secret: bytes = field(repr=False)


@dataclass
class PassReport:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    dropped: int = 0

    @property
    def handled(self) -> int:
        return self.delivered + self.retrying + self.failed + self.dropped


def _fail(row: WebhookDeliveryRow, settings: Settings, now: datetime, error: str, report: PassReport) -> None:
    row.last_error = error[:MAX_ERROR]
    if row.attempts >= settings.webhook_max_attempts:
        row.state, row.next_attempt_at, row.finished_at = DeliveryState.FAILED.value, None, now
        report.failed += 1
    else:
        row.next_attempt_at = now + timedelta(seconds=backoff_seconds(row.attempts, settings))
        report.retrying += 1


def claim(
    session: WriteSession, runtime: Runtime, now: datetime, limit: int, report: PassReport
) -> list[Claimed]:
    settings = runtime.settings
    rows = session.execute(
        select(WebhookDeliveryRow, WebhookEventRow, WebhookEndpointRow, Supplier.status)
        .join(WebhookEventRow, WebhookEventRow.id == WebhookDeliveryRow.event_id)
        .join(WebhookEndpointRow, WebhookEndpointRow.id == WebhookDeliveryRow.endpoint_id)
        .join(Supplier, Supplier.id == WebhookEventRow.supplier_id)
        .where(
            WebhookDeliveryRow.state == DeliveryState.PENDING.value,
            WebhookDeliveryRow.next_attempt_at <= now,
        )
        .order_by(WebhookDeliveryRow.next_attempt_at, WebhookDeliveryRow.id)
        .limit(limit)
        .with_for_update(of=WebhookDeliveryRow, skip_locked=True)
    ).all()
    claimed: list[Claimed] = []
    for delivery, event, endpoint, supplier_status in rows:
        if supplier_status == SupplierStatus.SUSPENDED.value:
            delivery.state, delivery.last_error = DeliveryState.DROPPED.value, SUSPENDED_REASON
            delivery.next_attempt_at, delivery.finished_at = None, now
            report.dropped += 1
            continue
        # Consent is decided again, and logged, for every attempt: a withdrawal stops a retry too.
        decision = decide_for(session, runtime, event.customer_id, event_query(session, event, now))
        if not permits(decision):
            delivery.state, delivery.last_error = DeliveryState.DROPPED.value, DROPPED_REASON
            delivery.next_attempt_at, delivery.finished_at = None, now
            report.dropped += 1
            continue
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.last_status_code = None
        delivery.next_attempt_at = now + timedelta(seconds=settings.webhook_lease_seconds)
        claimed.append(
            Claimed(
                delivery_id=delivery.id,
                attempt=delivery.attempts,
                event_id=event.id,
                url=endpoint.url,
                body=body(event, pseudonym(runtime, event.supplier_id, event.customer_id)),
                secret=secrets.open_secret(runtime, endpoint),
            )
        )
    session.flush()
    return claimed


@dataclass(frozen=True)
class Outcome:
    delivery_id: int
    attempt: int
    status_code: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def send(client: httpx.Client, item: Claimed, now: datetime) -> Outcome:
    headers = signature.headers(item.secret, item.event_id, int(now.timestamp()), item.body)
    try:
        response = client.post(item.url, content=item.body, headers=headers)
    except WebhookUrlRefused as exc:
        return Outcome(item.delivery_id, item.attempt, None, exc.detail)
    except httpx.HTTPError as exc:
        return Outcome(item.delivery_id, item.attempt, None, f"request failed: {exc.__class__.__name__}")
    error = None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
    return Outcome(item.delivery_id, item.attempt, response.status_code, error)


def settle(
    session: WriteSession, settings: Settings, outcomes: list[Outcome], now: datetime, report: PassReport
) -> None:
    for outcome in outcomes:
        row = session.get(WebhookDeliveryRow, outcome.delivery_id, with_for_update=True)
        # Another worker took the delivery over after the lease ran out (or it was dropped): its result wins.
        if row is None or row.state != DeliveryState.PENDING.value or row.attempts != outcome.attempt:
            continue
        row.last_status_code = outcome.status_code
        if outcome.ok:
            row.state, row.last_error = DeliveryState.DELIVERED.value, None
            row.next_attempt_at, row.finished_at = None, now
            report.delivered += 1
        else:
            _fail(row, settings, now, outcome.error or "failed", report)
    session.flush()


def new_client(settings: Settings, network: httpx.BaseTransport | None = None) -> httpx.Client:
    """The client deliveries are sent with: every request vetted and pinned (`VettedTransport`).

    `network` is what a vetted request is handed to: the real network unless a test stands in a receiver.
    """
    return httpx.Client(
        timeout=settings.webhook_timeout_seconds,
        follow_redirects=False,
        transport=VettedTransport(urls.UrlPolicy.of(settings), network),
        # Nothing from the environment: a proxy (HTTPS_PROXY, ALL_PROXY) would connect by the name itself.
        trust_env=False,
        headers={"user-agent": "infomediary-webhooks/1"},
    )


def deliver_due(
    runtime: Runtime,
    client: httpx.Client,
    *,
    now: Callable[[], datetime] = utcnow,
    limit: int | None = None,
) -> PassReport:
    """One pass: claim what is due, send it, settle it. Returns what happened to each delivery."""
    report = PassReport()
    with unit_of_work(runtime.session_factory) as session:
        claimed = claim(session, runtime, now(), limit or runtime.settings.webhook_delivery_batch, report)
    outcomes = [send(client, item, now()) for item in claimed]
    if outcomes:
        with unit_of_work(runtime.session_factory) as session:
            settle(session, runtime.settings, outcomes, now(), report)
    if report.handled:
        log.info(
            "webhooks.pass",
            delivered=report.delivered,
            retrying=report.retrying,
            failed=report.failed,
            dropped=report.dropped,
        )
    return report
