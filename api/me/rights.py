"""The consumer's rights over the whole vault: export everything, restrict processing, erase the account."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import StreamingResponse

from api.deps import ClientAddressDep, ReadSessionDep, RuntimeDep, WriteSessionDep, request_sessions
from api.me.auth import CurrentConsumer
from api.me.schemas import ErasureConfirm, ErasureReceiptRead, RestrictionRead
from api.problems import problem_responses
from api.routing import api_router
from api.tree_heads import FreshTreeHead
from infomediary.flows import account_erased, restriction_changed
from infomediary.portability import export
from infomediary.profiles import erasure, restriction

router = api_router(prefix="/v1/me", tags=["consumer"], responses=problem_responses(401))


@router.get(
    "/export",
    summary="Everything the service holds about you, as one streamed JSON document",
    description=export.__doc__ or "",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"application/json": {}},
            "description": "The export document, valid against `/v1/schemas/export-v2.json`.",
        }
    },
    # Its log entries come with proofs against a signed head: one is signed first if due, as for `/v1/me/log`.
    dependencies=[FreshTreeHead],
)
def export_everything(
    request: Request, consumer: CurrentConsumer, session: ReadSessionDep, runtime: RuntimeDep
) -> StreamingResponse:
    # A missing account or a data key destroyed by erasure (an old backup restored) fails here, as a
    # problem, instead of breaking the stream after its 200. The body reads in a transaction of its own.
    export.check(session, runtime, consumer.customer_id)
    return StreamingResponse(
        export.stream(request_sessions(request).snapshots, runtime, consumer.customer_id),
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="infomediary-export.json"'},
    )


@router.get("/restriction", response_model=RestrictionRead, summary="Whether processing is restricted")
def read_restriction(consumer: CurrentConsumer, session: ReadSessionDep) -> RestrictionRead:
    view = restriction.describe(session, consumer.customer_id)
    return RestrictionRead(restricted=view.restricted, since=view.since)


@router.post(
    "/restriction",
    response_model=RestrictionRead,
    summary="Restrict processing: no supplier may use your data until you lift it (idempotent)",
)
def restrict(consumer: CurrentConsumer, session: WriteSessionDep) -> RestrictionRead:
    view = restriction_changed.restrict(session, consumer.customer_id)
    return RestrictionRead(restricted=view.restricted, since=view.since)


@router.delete("/restriction", response_model=RestrictionRead, summary="Lift the restriction (idempotent)")
def lift_restriction(
    consumer: CurrentConsumer, session: WriteSessionDep, runtime: RuntimeDep
) -> RestrictionRead:
    view = restriction_changed.lift(session, runtime, consumer.customer_id)
    return RestrictionRead(restricted=view.restricted, since=view.since)


@router.delete(
    "",
    response_model=ErasureReceiptRead,
    responses=problem_responses(403, 422, 429),
    summary="Erase the account: destroy your data key, delete every row, return a signed erasure receipt",
    description=(
        'The body carries your current password (`{"password": "..."}`): a session token alone cannot '
        "erase the account. A missing or wrong one is 403 `reauthentication-failed` and erases nothing.\n\n"
        + (erasure.__doc__ or "")
    ),
)
def erase(
    body: ErasureConfirm,
    consumer: CurrentConsumer,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    address: ClientAddressDep,
) -> ErasureReceiptRead:
    result = account_erased.erase_account(
        session, runtime, consumer.customer_id, password=body.password, code=body.code, client_address=address
    )
    return ErasureReceiptRead(
        receipt=result.receipt,
        account=result.customer_id,
        erased_at=result.erased_at,
        rows_deleted=result.rows,
        erasure_key_destroyed=result.erasure_key_destroyed,
    )
