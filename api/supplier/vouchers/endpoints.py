"""Redeem a voucher (`vouchers:redeem`): its value is paid to the supplier once, and who bought it is not
told."""

from __future__ import annotations

from typing import Annotated

from fastapi import Response, Security

from api.bearer import supplier
from api.deps import RuntimeDep, WriteSessionDep
from api.params import IdempotencyKey
from api.problems import problem_responses
from api.routing import api_router
from api.supplier.vouchers.schemas import RedemptionCreate, RedemptionRead
from infomediary.oauth.bearer import Principal
from infomediary.vouchers import redemption

router = api_router(prefix="/v1/vouchers", tags=["supplier"], responses=problem_responses(401, 403))
Redeemer = Annotated[Principal, Security(supplier, scopes=["vouchers:redeem"])]
REPLAYED = "Idempotent-Replayed"


@router.post(
    "/redeem",
    response_model=RedemptionRead,
    responses=problem_responses(400, 404, 409, 410, 413, 422),
    summary="Redeem a voucher a customer gave at your checkout",
    description=(
        "Pays the voucher's value to your ledger balance, once. The answer says only that a valid voucher "
        "of this value was redeemed: nothing of who bought it. An unknown code and another supplier's "
        "voucher are both 404 `voucher-not-found`; a voucher already redeemed is 409, an expired one 410. "
        "Needs an `Idempotency-Key`: repeating it answers the first redemption again, with "
        "`Idempotent-Replayed: true`."
    ),
)
def redeem_voucher(
    body: RedemptionCreate,
    caller: Redeemer,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> RedemptionRead:
    done = redemption.redeem(session, runtime, caller.owner_id, body.code, idempotency_key=idempotency_key)
    if done.replayed:
        response.headers[REPLAYED] = "true"
    return RedemptionRead(voucher_id=done.voucher_id, value=done.value, redeemed_at=done.redeemed_at)
