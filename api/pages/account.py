"""Sign up, log in (with the authenticator's code when two-step sign-in is on), log out: the same account
services as `/v1/accounts` and `/v1/session`."""

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
from infomediary.customers.errors import (
    EmailNotVerified,
    InvalidCredentials,
    LoginChallengeInvalid,
    LoginThrottled,
    SecondFactorFailed,
)
from infomediary.customers.service import IssuedSession
from infomediary.flows import account_registered
from infomediary.text import Text as FreeText

router = page_router()
Text = Annotated[FreeText, Form(max_length=512)]
THROTTLED = "Too many failed attempts. Wait a few minutes, then try again."


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
    email: Text = "",
    password: Text = "",
) -> Response:
    credentials, errors = parse_form(Credentials, {"email": email, "password": password})
    if credentials is None:
        return render(
            request,
            "account/signup.html",
            {"email": email, "errors": errors},
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    # A new address and a taken one end on the same page: only the mailbox learns which it was.
    account_registered.register(session, runtime, email=credentials.email, password=credentials.password)
    return redirect(request, "/signup/sent")


@router.get("/signup/sent")
def signup_sent(request: Request) -> Response:
    return render(request, "account/signup_sent.html")


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
    unverified = False
    try:
        issued = service.login(session, runtime, email=email, password=password, client_address=address)
    except InvalidCredentials as exc:
        keep_only_the_record(session, exc.record)
        errors = {"_form": "That email address and password do not match an account."}
    except LoginThrottled as exc:
        keep_only_the_record(session, exc.record)
        errors = {"_form": THROTTLED}
        code = status.HTTP_429_TOO_MANY_REQUESTS
    except EmailNotVerified as exc:
        keep_only_the_record(session, exc.record)
        errors = {"_form": "Confirm your email address first: follow the link in the message we sent you."}
        code, unverified = status.HTTP_403_FORBIDDEN, True
    else:
        if not isinstance(issued, IssuedSession):
            # The password was right; the code comes next, on a page of its own. The challenge travels in the
            # form, never in a URL (history, logs).
            return render(request, "account/login_code.html", {"challenge": issued.token, "next": target})
        return _signed_in(request, target, issued)
    context = {"email": email, "next": target, "errors": errors, "unverified": unverified}
    return render(request, "account/login.html", context, status_code=code)


@router.post("/login/code")
def log_in_code(
    request: Request,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    address: ClientAddressDep,
    challenge: Text = "",
    code: Text = "",
    next: Text = "/",
) -> Response:
    target = safe_next(next)
    try:
        issued = service.complete_login(
            session, runtime, challenge=challenge, code=code, client_address=address
        )
    except SecondFactorFailed as exc:
        keep_only_the_record(session, exc.record)
        context = {
            "challenge": challenge,
            "next": target,
            "errors": {"code": "That code is not right. Try the code the app shows now."},
        }
        return render(request, "account/login_code.html", context, status_code=status.HTTP_401_UNAUTHORIZED)
    except (LoginChallengeInvalid, LoginThrottled) as exc:
        keep_only_the_record(session, exc.record)
        throttled = isinstance(exc, LoginThrottled)
        message = THROTTLED if throttled else "That sign-in took too long. Start again with your password."
        context = {"email": "", "next": target, "errors": {"_form": message}}
        code_status = status.HTTP_429_TOO_MANY_REQUESTS if throttled else status.HTTP_401_UNAUTHORIZED
        return render(request, "account/login.html", context, status_code=code_status)
    return _signed_in(request, target, issued)


def _signed_in(request: Request, target: str, issued: IssuedSession) -> Response:
    response = redirect(request, target, notice="logged-in" if target == "/" else None)
    set_session_cookie(request, response, issued)
    return response


@router.post("/logout")
def log_out(request: Request, consumer: PageConsumer, session: WriteSessionDep) -> Response:
    service.logout(session, consumer)
    response = redirect(request, "/login", notice="logged-out")
    clear_session_cookie(response)
    return response
