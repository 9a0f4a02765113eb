"""The consumer's own account."""

from __future__ import annotations

from fastapi import status

from api.deps import ClientAddressDep, ReadSessionDep, RuntimeDep, WriteSessionDep
from api.me.auth import CurrentConsumer
from api.me.schemas import MeRead, PasswordChange
from api.problems import problem_responses
from api.routing import api_router
from infomediary.customers import service

router = api_router(prefix="/v1/me", tags=["consumer"], responses=problem_responses(401))


@router.get("", response_model=MeRead, summary="The calling consumer's account")
def read_me(consumer: CurrentConsumer, session: ReadSessionDep, runtime: RuntimeDep) -> MeRead:
    account = service.describe(session, runtime, consumer)
    return MeRead(id=account.customer_id, created_at=account.created_at)


@router.post(
    "/password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(403, 413, 422, 429),
    summary="Change password; every other session is logged out",
)
def change_password(
    body: PasswordChange,
    consumer: CurrentConsumer,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    address: ClientAddressDep,
) -> None:
    service.change_password(
        session,
        runtime,
        consumer,
        current_password=body.current_password,
        new_password=body.new_password,
        code=body.code,
        client_address=address,
    )
