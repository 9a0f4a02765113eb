"""Operators on pages: their session cookies, the log-in and log-out handlers both consoles share, and the
dependencies that admit only an operator of the right kind (anyone else is sent to that console's log-in)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import Request, Response, status
from sqlalchemy.orm import Session

from api.deps import RequestSessionDep, keep_only_the_record
from api.pages.auth import LoginRequired, safe_next
from api.pages.rendering import TEMPLATES, redirect, render
from api.session_cookie import AUDITOR_OPERATOR_COOKIE, SUPPLIER_OPERATOR_COOKIE
from infomediary.customers.errors import InvalidCredentials, LoginThrottled
from infomediary.customers.service import IssuedSession
from infomediary.database import WriteSession
from infomediary.operators import service as operators
from infomediary.operators.errors import InvalidOperatorSession
from infomediary.operators.models import OperatorKind
from infomediary.operators.service import AuthenticatedOperator
from infomediary.runtime import Runtime


def _epoch_ms(value: int) -> str:
    return datetime.fromtimestamp(value / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


# Tree heads carry their time as milliseconds since the epoch (as RFC 6962 get-sth does).
TEMPLATES.env.filters["epoch_ms"] = _epoch_ms


@dataclass(frozen=True)
class Console:
    """What differs between the supplier console and the auditor view."""

    kind: OperatorKind
    prefix: str
    cookie: str
    title: str
    nav: tuple[tuple[str, str], ...]


SUPPLIER = Console(
    OperatorKind.SUPPLIER,
    "/supplier",
    SUPPLIER_OPERATOR_COOKIE,
    "Supplier console",
    (
        ("/supplier", "Overview"),
        ("/supplier/ledger", "Ledger"),
        ("/supplier/policy", "Privacy policy"),
        ("/supplier/offers", "Offers"),
        ("/supplier/credentials", "API credentials"),
    ),
)
AUDITOR = Console(
    OperatorKind.AUDITOR,
    "/audit",
    AUDITOR_OPERATOR_COOKIE,
    "Auditor view",
    (
        ("/audit", "Policy log"),
        ("/audit/tree-heads", "Tree heads"),
        ("/audit/verify", "Verify a proof"),
        ("/audit/reports", "Reports"),
        ("/audit/sanctions", "Sanctions"),
    ),
)


def operator_dependency(console: Console) -> Callable[..., Awaitable[AuthenticatedOperator]]:
    async def dependency(request: Request, session: RequestSessionDep) -> AuthenticatedOperator:
        token = request.cookies.get(console.cookie)
        if not token:
            raise LoginRequired()
        try:
            return await session.run(operators.authenticate, token, console.kind)
        except InvalidOperatorSession as exc:
            raise LoginRequired() from exc

    return dependency


def current_operator(request: Request, session: Session, console: Console) -> AuthenticatedOperator | None:
    token = request.cookies.get(console.cookie)
    if not token:
        return None
    try:
        return operators.authenticate(session, token, console.kind)
    except InvalidOperatorSession:
        return None


def page(
    request: Request,
    console: Console,
    operator: AuthenticatedOperator | None,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = status.HTTP_200_OK,
) -> Response:
    values = {"console": console, "operator": operator, "consumer": None, **(context or {})}
    return render(request, template, values, status_code=status_code)


def safe_target(console: Console, value: str | None) -> str:
    """Only a path inside this console may follow log-in (never another site, nor the other console)."""
    target = safe_next(value, console.prefix)
    return target if target == console.prefix or target.startswith(console.prefix + "/") else console.prefix


def _set_cookie(request: Request, response: Response, console: Console, issued: IssuedSession) -> None:
    # Scoped to this console's path, so the consumer pages (and the other console) never receive it;
    # SameSite=Strict: an operator arriving from another site's link signs in again.
    response.set_cookie(
        console.cookie,
        issued.token,
        max_age=issued.expires_in,
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="strict",
        path=console.prefix,
    )


def login_form(request: Request, session: Session, console: Console, next: str | None) -> Response:
    if current_operator(request, session, console) is not None:
        return redirect(request, safe_target(console, next))
    return page(
        request, console, None, "operator/login.html", {"email": "", "next": safe_target(console, next)}
    )


def log_in(
    request: Request,
    session: WriteSession,
    runtime: Runtime,
    console: Console,
    *,
    address: str,
    email: str,
    password: str,
    next: str | None,
) -> Response:
    target = safe_target(console, next)
    code = status.HTTP_401_UNAUTHORIZED
    try:
        issued = operators.login(
            session, runtime, kind=console.kind, login=email, password=password, client_address=address
        )
    except InvalidCredentials as exc:
        # The form is shown again: the refusal's record (for throttling) is all this transaction keeps.
        keep_only_the_record(session, exc.record)
        message = "That email address and password do not match an operator account."
    except LoginThrottled as exc:
        keep_only_the_record(session, exc.record)
        message = "Too many failed attempts. Wait a few minutes, then try again."
        code = status.HTTP_429_TOO_MANY_REQUESTS
    else:
        response = redirect(request, target)
        _set_cookie(request, response, console, issued)
        return response
    context = {"email": email, "next": target, "errors": {"_form": message}}
    return page(request, console, None, "operator/login.html", context, status_code=code)


def log_out(
    request: Request, session: WriteSession, console: Console, operator: AuthenticatedOperator
) -> Response:
    operators.logout(session, operator)
    response = redirect(request, f"{console.prefix}/login", notice="logged-out")
    response.delete_cookie(console.cookie, path=console.prefix)
    return response
