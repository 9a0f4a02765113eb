"""Sign-in security: two-step sign-in with an authenticator app, switched on and off by the customer. The same
services as `/v1/me/second-factor`.

The secret and the recovery codes are shown in the answer to the form that made them, never behind a link
or a redirect (a URL stays in the history); every response is `Cache-Control: no-store` (`api.middleware`).
"""

from __future__ import annotations

from fastapi import Request, Response, status
from sqlalchemy.orm import Session

from api.deps import ClientAddressDep, ReadSessionDep, RuntimeDep, WriteSessionDep
from api.pages.auth import PageConsumer
from api.pages.reauth import REFUSALS, Code, Password, refused
from api.pages.rendering import redirect, render
from api.pages.routing import page_router
from infomediary.customers import second_factor, service
from infomediary.customers.errors import CodeIncorrect, SecondFactorAlreadyOn, SecondFactorNotStarted
from infomediary.customers.service import AuthenticatedConsumer

router = page_router()


def _overview(
    request: Request,
    session: Session,
    consumer: AuthenticatedConsumer,
    errors: dict[str, str] | None = None,
    status_code: int = status.HTTP_200_OK,
) -> Response:
    context = {
        "consumer": consumer,
        "factor": second_factor.status(session, consumer.customer_id),
        "errors": errors or {},
    }
    return render(request, "security.html", context, status_code=status_code)


@router.get("/security")
def overview(request: Request, consumer: PageConsumer, session: ReadSessionDep) -> Response:
    return _overview(request, session, consumer)


@router.post("/security/second-factor")
def start(
    request: Request,
    consumer: PageConsumer,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    address: ClientAddressDep,
    password: Password = "",
) -> Response:
    try:
        enrolment = service.begin_second_factor(
            session, runtime, consumer, password=password, client_address=address
        )
    except SecondFactorAlreadyOn:
        return redirect(request, "/security")
    except REFUSALS as exc:
        errors, status_code = refused(session, exc, password)
        return _overview(request, session, consumer, errors, status_code)
    return render(request, "security_setup.html", {"consumer": consumer, "enrolment": enrolment})


@router.post("/security/second-factor/confirm")
def confirm(
    request: Request,
    consumer: PageConsumer,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    code: Code = "",
) -> Response:
    try:
        codes = service.confirm_second_factor(session, runtime, consumer, code=code)
    except SecondFactorNotStarted:
        return redirect(request, "/security")
    except CodeIncorrect:
        session.rollback()
        context = {
            "consumer": consumer,
            "enrolment": service.pending_second_factor(session, runtime, consumer),
            "errors": {"code": "That code does not match. Enter the code the app shows now."},
        }
        return render(request, "security_setup.html", context, status_code=status.HTTP_400_BAD_REQUEST)
    return render(request, "security_codes.html", {"consumer": consumer, "codes": codes})


@router.post("/security/second-factor/disable")
def disable(
    request: Request,
    consumer: PageConsumer,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    address: ClientAddressDep,
    password: Password = "",
    code: Code = "",
) -> Response:
    try:
        service.disable_second_factor(
            session, runtime, consumer, password=password, code=code or None, client_address=address
        )
    except REFUSALS as exc:
        errors, status_code = refused(session, exc, password)
        return _overview(request, session, consumer, errors, status_code)
    return redirect(request, "/security", notice="second-factor-off")
