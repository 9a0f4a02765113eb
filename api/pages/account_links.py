"""Where the account mails' links lead: confirm the address, set a new password, confirm a new login
address; and the forms that ask for such a link (again). The same services as `/v1/accounts/verify`,
`/v1/accounts/password-reset` and `/v1/accounts/email-change/confirm`.

Opening a link only shows a form: the token is used when the form is sent, so a mail scanner that fetches
every link confirms no account and spends no reset link (`infomediary.customers.mails`). The token then
travels in the form's hidden field, and the pages send no Referer to other sites (`base.html`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Query, Request, Response, status
from sqlalchemy.orm import Session

from api.accounts.schemas import AddressOnly
from api.deps import ClientAddressDep, ReadSessionDep, RuntimeDep, WriteSessionDep
from api.pages.forms import parse_form
from api.pages.reauth import REFUSALS, Code, Password, needs_code, refused
from api.pages.rendering import redirect, render
from api.pages.routing import page_router
from infomediary.customers import email_change, password_reset, verification
from infomediary.customers.errors import LinkInvalid, NewAddressTaken
from infomediary.flows import login_email_changed
from infomediary.text import Opaque
from infomediary.text import Text as FreeText

router = page_router()
Text = Annotated[FreeText, Form(max_length=512)]
TokenField = Annotated[Opaque, Form(max_length=128)]
TokenQuery = Annotated[Opaque, Query(max_length=128)]
LENGTH_HINT = "At least 12 characters."


def _expired(request: Request, about: str) -> Response:
    return render(
        request, "account/link_expired.html", {"about": about}, status_code=status.HTTP_400_BAD_REQUEST
    )


@router.get("/verify-email")
def verify_form(request: Request, session: ReadSessionDep, token: TokenQuery = "") -> Response:
    if not token or len(token) > 128 or not verification.link_is_live(session, token):
        return _expired(request, "verify")
    return render(request, "account/verify_email.html", {"token": token})


@router.post("/verify-email")
def verify(request: Request, session: WriteSessionDep, token: TokenField = "") -> Response:
    try:
        verification.confirm(session, token)
    except LinkInvalid:
        return _expired(request, "verify")
    return redirect(request, "/login", notice="email-verified")


@router.get("/verify-email/resend")
def resend_form(request: Request) -> Response:
    return render(request, "account/ask_link.html", {"about": "verify", "email": ""})


@router.post("/verify-email/resend")
def resend(request: Request, session: WriteSessionDep, runtime: RuntimeDep, email: Text = "") -> Response:
    found, errors = parse_form(AddressOnly, {"email": email})
    if found is None:
        context = {"about": "verify", "email": email, "errors": errors}
        return render(
            request, "account/ask_link.html", context, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT
        )
    verification.resend(session, runtime, found.email)
    return redirect(request, "/verify-email/resend", notice="link-resent")


@router.get("/forgot-password")
def forgot_form(request: Request) -> Response:
    return render(request, "account/ask_link.html", {"about": "reset", "email": ""})


@router.post("/forgot-password")
def forgot(request: Request, session: WriteSessionDep, runtime: RuntimeDep, email: Text = "") -> Response:
    found, errors = parse_form(AddressOnly, {"email": email})
    if found is None:
        context = {"about": "reset", "email": email, "errors": errors}
        return render(
            request, "account/ask_link.html", context, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT
        )
    password_reset.request(session, runtime, found.email)
    return redirect(request, "/forgot-password", notice="reset-requested")


@router.get("/reset-password")
def reset_form(request: Request, session: ReadSessionDep, token: TokenQuery = "") -> Response:
    if not token or len(token) > 128 or not password_reset.link_is_live(session, token):
        return _expired(request, "reset")
    return render(request, "account/reset_password.html", {"token": token, "hint": LENGTH_HINT})


@router.post("/reset-password")
def reset(
    request: Request,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    token: TokenField = "",
    password: Text = "",
) -> Response:
    if not 12 <= len(password) <= 256:
        context = {"token": token, "hint": LENGTH_HINT, "errors": {"password": LENGTH_HINT}}
        return render(
            request,
            "account/reset_password.html",
            context,
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    try:
        password_reset.complete(session, runtime, token, password)
    except LinkInvalid:
        return _expired(request, "reset")
    return redirect(request, "/login", notice="password-reset")


def _change_email_page(
    request: Request,
    session: Session,
    token: str,
    holder: str,
    errors: dict[str, str] | None = None,
    status_code: int = status.HTTP_200_OK,
) -> Response:
    context = {"token": token, "errors": errors or {}, "needs_code": needs_code(session, holder)}
    return render(request, "account/change_email.html", context, status_code=status_code)


@router.get("/change-email")
def change_email_form(request: Request, session: ReadSessionDep, token: TokenQuery = "") -> Response:
    holder = email_change.link_holder(session, token) if token and len(token) <= 128 else None
    if holder is None:
        return _expired(request, "change-email")
    return _change_email_page(request, session, token, holder)


@router.post("/change-email")
def change_email(
    request: Request,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    address: ClientAddressDep,
    token: TokenField = "",
    password: Password = "",
    code: Code = "",
) -> Response:
    holder = email_change.link_holder(session, token)
    if holder is None:
        return _expired(request, "change-email")
    try:
        login_email_changed.confirm(
            session, runtime, token, password=password, code=code or None, client_address=address
        )
    except REFUSALS as exc:
        errors, status_code = refused(session, exc, password)
        return _change_email_page(request, session, token, holder, errors, status_code)
    except LinkInvalid:
        return _expired(request, "change-email")
    except NewAddressTaken as exc:
        session.rollback()  # nothing changes, the link included
        errors = {"_form": exc.title}
        return _change_email_page(request, session, token, holder, errors, status.HTTP_409_CONFLICT)
    return redirect(request, "/login", notice="email-changed")
