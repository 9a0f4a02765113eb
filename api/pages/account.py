"""Sign up, log in, log out: the same account services as `/v1/accounts` and `/v1/session`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request, Response, status

from api.accounts.schemas import Credentials
from api.deps import ClientAddressDep, RuntimeDep, WriteSessionDep, keep_only_the_record
from api.pages.auth import NextQuery, OptionalConsumer, PageConsumer, safe_next
from api.pages.forms import parse_form
from api.pages.rendering import redirect, render
from api.pages.routing import page_router
from api.session_cookie import clear_session_cookie, set_session_cookie
from infomediary.customers import service
from infomediary.customers.errors import EmailAlreadyRegistered, InvalidCredentials, LoginThrottled
from infomediary.flows import account_registered
from infomediary.text import Text as FreeText

router = page_router()
Text = Annotated[FreeText, Form(max_length=512)]


@router.get("/signup")
def signup_form(request: Request, consumer: OptionalConsumer) -> Response:
    if consumer is not None:
        return redirect(request, "/")
    return render(request, "account/signup.html", {"email": ""})


@router.post("/signup")
def sign_up(
    request: Request,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    address: ClientAddressDep,
    email: Text = "",
    password: Text = "",
) -> Response:
    credentials, errors = parse_form(Credentials, {"email": email, "password": password})
    if credentials is not None:
        try:
            account_registered.register(
                session, runtime, email=credentials.email, password=credentials.password
            )
            issued = service.login(
                session,
                runtime,
                email=credentials.email,
                password=credentials.password,
                client_address=address,
            )
        except EmailAlreadyRegistered as exc:
            keep_only_the_record(session, exc.record)
            errors = {"email": "An account with this email address already exists. Log in instead."}
        else:
            response = redirect(request, "/", notice="signed-up")
            set_session_cookie(request, response, issued)
            return response
    return render(
        request, "account/signup.html", {"email": email, "errors": errors}, status_code=_status(errors)
    )


@router.get("/login")
def login_form(request: Request, consumer: OptionalConsumer, next: NextQuery = None) -> Response:
    if consumer is not None:
        return redirect(request, safe_next(next))
    return render(request, "account/login.html", {"email": "", "next": safe_next(next)})


@router.post("/login")
def log_in(
    request: Request,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    address: ClientAddressDep,
    email: Text = "",
    password: Text = "",
    next: Text = "/",
) -> Response:
    target = safe_next(next)
    errors: dict[str, str] = {}
    code = status.HTTP_401_UNAUTHORIZED
    try:
        issued = service.login(session, runtime, email=email, password=password, client_address=address)
    except InvalidCredentials as exc:
        keep_only_the_record(session, exc.record)
        errors = {"_form": "That email address and password do not match an account."}
    except LoginThrottled as exc:
        keep_only_the_record(session, exc.record)
        errors = {"_form": "Too many failed attempts. Wait a few minutes, then try again."}
        code = status.HTTP_429_TOO_MANY_REQUESTS
    else:
        response = redirect(request, target, notice="logged-in" if target == "/" else None)
        set_session_cookie(request, response, issued)
        return response
    return render(
        request, "account/login.html", {"email": email, "next": target, "errors": errors}, status_code=code
    )


@router.post("/logout")
def log_out(request: Request, consumer: PageConsumer, session: WriteSessionDep) -> Response:
    service.logout(session, consumer)
    response = redirect(request, "/login", notice="logged-out")
    clear_session_cookie(response)
    return response


def _status(errors: dict[str, str]) -> int:
    if "email" in errors and "exists" in errors["email"]:
        return status.HTTP_409_CONFLICT
    return status.HTTP_422_UNPROCESSABLE_CONTENT if errors else status.HTTP_200_OK
