"""The customer's vouchers: turn credits into a code for one supplier, spent there without naming her."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Response, status

from api.deps import RuntimeDep, WriteSessionDep
from api.me.auth import CurrentConsumer
from api.me.voucher_schemas import VoucherCreate, VoucherRead, VouchersRead, voucher_read
from api.params import IdempotencyKey
from api.postings import Limit
from api.problems import problem_responses
from api.routing import api_router
from infomediary.text import Id
from infomediary.vouchers import service

router = api_router(prefix="/v1/me/vouchers", tags=["consumer"], responses=problem_responses(401))
VoucherCursor = Annotated[
    Id | None, Query(description="`next_cursor` of the previous page; omit for the first.")
]
REPLAYED = "Idempotent-Replayed"


@router.post(
    "",
    response_model=VoucherRead,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(400, 402, 404, 409, 413, 422),
    summary="Turn credits into a single-use voucher for one supplier",
    description=(
        "Debits `value` credits from your balance (402 `insufficient-credits` if it is lower, and nothing "
        "changes) and answers the voucher with its code. The supplier that redeems it learns its value, "
        "never who you are. Needs an `Idempotency-Key`; repeating it answers the same voucher with "
        "`Idempotent-Replayed: true` and charges nothing."
    ),
)
def issue_voucher(
    body: VoucherCreate,
    consumer: CurrentConsumer,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> VoucherRead:
    issued = service.issue(
        session,
        runtime,
        consumer.customer_id,
        supplier_id=body.supplier_id,
        value=body.value,
        days=body.days,
        idempotency_key=idempotency_key,
    )
    if issued.replayed:
        response.headers[REPLAYED] = "true"
    return voucher_read(issued.voucher)


@router.get(
    "",
    response_model=VouchersRead,
    responses=problem_responses(422),
    summary="Your vouchers, latest expiry first (paged)",
    description="Vouchers that expired unspent are refunded to your balance on this read.",
)
def list_vouchers(
    consumer: CurrentConsumer,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    cursor: VoucherCursor = None,
    limit: Limit = 50,
) -> VouchersRead:
    views, next_cursor = service.list_own(session, runtime, consumer.customer_id, cursor=cursor, limit=limit)
    return VouchersRead(items=[voucher_read(v) for v in views], next_cursor=next_cursor)
