"""Supplier requests: ask a pseudonymous customer for categories for a purpose; poll the answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Security, status

from api.bearer import supplier
from api.deps import ReadSessionDep, RuntimeDep, WriteSessionDep
from api.problems import problem_responses
from api.routing import api_router
from api.supplier.supplier_requests.schemas import RequestIn, RequestRead
from consent.vocabulary import Category
from infomediary.consents import supplier_requests
from infomediary.oauth.bearer import Principal
from infomediary.text import Id

router = api_router(prefix="/v1/requests", tags=["supplier"], responses=problem_responses(401, 403))
RequestId = Annotated[Id, Path()]


def _read(view: supplier_requests.RequestView) -> RequestRead:
    assert view.pseudonym is not None  # a supplier's own request names the customer
    return RequestRead(
        id=view.id,
        # The pseudonym the supplier asked by (a slice's stays a slice's).
        pseudonym=view.pseudonym,
        purpose=view.purpose,
        categories=[Category(c) for c in view.categories],
        release_kind=view.release_kind,
        price_offered=view.price_offered,
        expires_at=view.expires_at,
        status=view.status,
        created_at=view.created_at,
        answered_at=view.answered_at,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=RequestRead,
    responses=problem_responses(404, 409, 413, 422),
    summary="Ask a customer (by pseudonym) for access; standing terms may refuse at once",
)
def create_request(
    body: RequestIn,
    caller: Annotated[Principal, Security(supplier, scopes=["requests:write"])],
    session: WriteSessionDep,
    runtime: RuntimeDep,
) -> RequestRead:
    view = supplier_requests.create(
        session,
        runtime,
        caller.owner_id,
        pseudonym=body.pseudonym,
        purpose=body.purpose,
        categories=frozenset(body.categories),
        release_kind=body.release_kind,
        price_offered=body.price_offered,
        expires_at=body.expires_at,
    )
    return _read(view)


@router.get(
    "/{request_id}",
    response_model=RequestRead,
    responses=problem_responses(404),
    summary="The status of one of your requests",
)
def read_request(
    request_id: RequestId,
    caller: Annotated[Principal, Security(supplier, scopes=["requests:write"])],
    session: ReadSessionDep,
    runtime: RuntimeDep,
) -> RequestRead:
    return _read(supplier_requests.for_supplier(session, runtime, caller.owner_id, request_id))
