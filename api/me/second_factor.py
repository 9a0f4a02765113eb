"""Two-step sign-in for the consumer: set up an authenticator app, confirm it, switch it off."""

from __future__ import annotations

from fastapi import status

from api.deps import ClientAddressDep, ReadSessionDep, RuntimeDep, WriteSessionDep
from api.me.auth import CurrentConsumer
from api.me.second_factor_schemas import (
    RecoveryCodes,
    SecondFactorConfirm,
    SecondFactorRead,
    SecondFactorSecret,
    SecondFactorStart,
    SecondFactorStop,
)
from api.problems import problem_responses
from api.routing import api_router
from infomediary.customers import second_factor, service

router = api_router(prefix="/v1/me/second-factor", tags=["consumer"], responses=problem_responses(401))


@router.get("", response_model=SecondFactorRead, summary="Whether two-step sign-in is on")
def read(consumer: CurrentConsumer, session: ReadSessionDep) -> SecondFactorRead:
    found = second_factor.status(session, consumer.customer_id)
    return SecondFactorRead(
        enabled=found.enabled, since=found.since, recovery_codes_left=found.recovery_codes_left
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=SecondFactorSecret,
    responses=problem_responses(403, 409, 413, 422, 429),
    summary="Start setting up an authenticator app (with your password); confirm it with a code",
)
def start(
    body: SecondFactorStart,
    consumer: CurrentConsumer,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    address: ClientAddressDep,
) -> SecondFactorSecret:
    enrolment = service.begin_second_factor(
        session, runtime, consumer, password=body.password, client_address=address
    )
    return SecondFactorSecret(secret=enrolment.secret, otpauth_uri=enrolment.uri)


@router.post(
    "/confirm",
    response_model=RecoveryCodes,
    responses=problem_responses(400, 409, 413, 422),
    summary="Switch two-step sign-in on with the app's current code; returns ten recovery codes, once",
)
def confirm(
    body: SecondFactorConfirm, consumer: CurrentConsumer, session: WriteSessionDep, runtime: RuntimeDep
) -> RecoveryCodes:
    return RecoveryCodes(
        recovery_codes=service.confirm_second_factor(session, runtime, consumer, code=body.code)
    )


@router.delete(
    "",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(403, 413, 422, 429),
    summary="Switch two-step sign-in off, with your password and a code (a recovery code will do)",
)
def stop(
    body: SecondFactorStop,
    consumer: CurrentConsumer,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    address: ClientAddressDep,
) -> None:
    service.disable_second_factor(
        session, runtime, consumer, password=body.password, code=body.code, client_address=address
    )
