"""Business-event webhooks for suppliers (`events:subscribe`): register, list, delete, rotate, log."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import Path, Query, Response, Security, status

from api.bearer import supplier
from api.deps import ReadSessionDep, RuntimeDep, WriteSessionDep
from api.params import SerialCursor
from api.problems import problem_responses
from api.routing import api_router
from api.supplier.webhook_schemas import (
    DeliveryPage,
    DeliveryRead,
    WebhookIn,
    WebhookList,
    WebhookRead,
    WebhookWithSecret,
)
from infomediary.oauth.bearer import Principal
from infomediary.text import Id
from infomediary.webhooks import service

router = api_router(prefix="/v1/supplier/webhooks", tags=["supplier"], responses=problem_responses(401, 403))
Subscriber = Annotated[Principal, Security(supplier, scopes=["events:subscribe"])]
WebhookId = Annotated[Id, Path()]
Limit = Annotated[int, Query(ge=1, le=200)]


def _with_secret(found: service.WithSecret) -> WebhookWithSecret:
    return WebhookWithSecret(**asdict(found.endpoint), secret=found.secret)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookWithSecret,
    responses=problem_responses(400, 409, 422),
    summary="Register a webhook endpoint for business events; the signing secret is shown once",
    description=(
        "Events name a customer only by your own pseudonym, and only customers who granted you consent "
        "for the event's purpose. Deliveries are signed in the Standard Webhooks style (webhook-id, "
        "webhook-timestamp, webhook-signature) and retried with exponential backoff."
    ),
)
def create_webhook(
    body: WebhookIn, caller: Subscriber, session: WriteSessionDep, runtime: RuntimeDep
) -> WebhookWithSecret:
    created = service.create(
        session,
        runtime,
        caller.owner_id,
        url=body.url,
        event_types=list(body.event_types),
        description=body.description,
    )
    return _with_secret(created)


@router.get("", response_model=WebhookList, summary="Your webhook endpoints (never their secrets)")
def list_webhooks(caller: Subscriber, session: ReadSessionDep) -> WebhookList:
    return WebhookList(
        items=[WebhookRead(**asdict(e)) for e in service.list_endpoints(session, caller.owner_id)]
    )


@router.get(
    "/{webhook_id}",
    response_model=WebhookRead,
    responses=problem_responses(404),
    summary="One of your endpoints",
)
def read_webhook(webhook_id: WebhookId, caller: Subscriber, session: ReadSessionDep) -> WebhookRead:
    return WebhookRead(**asdict(service.get(session, caller.owner_id, webhook_id)))


@router.delete(
    "/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(404),
    summary="Delete an endpoint; its undelivered events are not sent",
)
def delete_webhook(webhook_id: WebhookId, caller: Subscriber, session: WriteSessionDep) -> Response:
    service.delete(session, caller.owner_id, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{webhook_id}/secret",
    response_model=WebhookWithSecret,
    responses=problem_responses(404),
    summary="Rotate the signing secret: the new one is shown once and signs every later attempt",
)
def rotate_webhook_secret(
    webhook_id: WebhookId, caller: Subscriber, session: WriteSessionDep, runtime: RuntimeDep
) -> WebhookWithSecret:
    return _with_secret(service.rotate_secret(session, runtime, caller.owner_id, webhook_id))


@router.get(
    "/{webhook_id}/deliveries",
    response_model=DeliveryPage,
    responses=problem_responses(404, 422),
    summary="The endpoint's delivery log, newest first (paged with a cursor)",
)
def list_deliveries(
    webhook_id: WebhookId,
    caller: Subscriber,
    session: ReadSessionDep,
    cursor: SerialCursor = None,
    limit: Limit = 50,
) -> DeliveryPage:
    items, next_cursor = service.deliveries(
        session, caller.owner_id, webhook_id, cursor=int(cursor) if cursor else None, limit=limit
    )
    return DeliveryPage(
        items=[DeliveryRead(**{**asdict(i), "id": str(i.id)}) for i in items], next_cursor=next_cursor
    )
