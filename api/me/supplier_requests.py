"""Supplier requests waiting for the consumer's answer (accept or refuse; served at `/v1/me/inbox`), and the
pseudonyms suppliers know the consumer by."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, status

from api.deps import ClientAddressDep, ReadSessionDep, RuntimeDep, WriteSessionDep
from api.me import consent_bodies
from api.me.auth import CurrentConsumer
from api.me.consent_schemas import (
    InboxAnswer,
    InboxPage,
    PseudonymIssue,
    PseudonymRead,
    PseudonymsRead,
    RequestAcceptIn,
)
from api.problems import problem_responses
from api.routing import api_router
from infomediary.consents import supplier_requests
from infomediary.flows import request_answered
from infomediary.pseudonyms import service as pseudonyms
from infomediary.text import Id

router = api_router(prefix="/v1/me", tags=["consumer"], responses=problem_responses(401))
RequestId = Annotated[Id, Path()]


@router.get("/inbox", response_model=InboxPage, summary="Requests waiting for your answer")
def inbox(
    consumer: CurrentConsumer,
    session: ReadSessionDep,
    cursor: Annotated[Id | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> InboxPage:
    views, next_cursor = supplier_requests.pending(session, consumer.customer_id, cursor=cursor, limit=limit)
    return InboxPage(items=consent_bodies.inbox_items(session, views), next_cursor=next_cursor)


@router.post(
    "/inbox/{request_id}/accept",
    response_model=InboxAnswer,
    responses=problem_responses(403, 404, 409, 422, 429),
    summary="Accept: grants what was asked, with a signed receipt (and your password, to release identity)",
)
def accept(
    request_id: RequestId,
    consumer: CurrentConsumer,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    address: ClientAddressDep,
    body: RequestAcceptIn | None = None,
) -> InboxAnswer:
    confirm = body or RequestAcceptIn()
    view, changes = request_answered.accept_request(
        session,
        runtime,
        consumer.customer_id,
        request_id,
        password=confirm.password,
        code=confirm.code,
        client_address=address,
    )
    [item] = consent_bodies.inbox_items(session, [view])
    return InboxAnswer(item=item, receipt_id=changes[0].receipt_id, receipt=changes[0].receipt)


@router.post(
    "/inbox/{request_id}/refuse",
    response_model=InboxAnswer,
    responses=problem_responses(404, 409),
    summary="Refuse the request",
)
def refuse(
    request_id: RequestId, consumer: CurrentConsumer, session: WriteSessionDep, runtime: RuntimeDep
) -> InboxAnswer:
    [item] = consent_bodies.inbox_items(
        session, [request_answered.refuse_request(session, runtime, consumer.customer_id, request_id)]
    )
    return InboxAnswer(item=item)


def _pseudonym(p: pseudonyms.IssuedPseudonym) -> PseudonymRead:
    return PseudonymRead(
        supplier_id=p.supplier_id, supplier_name=p.supplier_name, pseudonym=p.pseudonym, issued_at=p.issued_at
    )


@router.get(
    "/pseudonyms", response_model=PseudonymsRead, summary="Which supplier knows you by which pseudonym"
)
def list_pseudonyms(
    consumer: CurrentConsumer, session: ReadSessionDep, runtime: RuntimeDep
) -> PseudonymsRead:
    return PseudonymsRead(
        pseudonyms=[
            _pseudonym(p) for p in pseudonyms.issued_to_suppliers(session, runtime, consumer.customer_id)
        ]
    )


@router.post(
    "/pseudonyms",
    status_code=status.HTTP_201_CREATED,
    response_model=PseudonymRead,
    responses=problem_responses(404, 422),
    summary="Hand your pseudonym to one supplier (so it can send you requests)",
)
def issue_pseudonym(
    body: PseudonymIssue, consumer: CurrentConsumer, session: WriteSessionDep, runtime: RuntimeDep
) -> PseudonymRead:
    return _pseudonym(pseudonyms.issue(session, runtime, body.supplier_id, consumer.customer_id))
