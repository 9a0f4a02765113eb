"""The consumer's session cookie: set by `POST /v1/session` and by the login page, read by the pages."""

from __future__ import annotations

from fastapi import Request, Response

from infomediary.customers.service import IssuedSession

SESSION_COOKIE = "infomediary_session"
# Operators' sessions (api/pages/console) have their own cookies, each scoped to its own pages' path, so a
# consumer session and an operator session never stand in for each other.
SUPPLIER_OPERATOR_COOKIE = "infomediary_supplier_operator"
AUDITOR_OPERATOR_COOKIE = "infomediary_auditor_operator"
# Every session cookie a form's CSRF token may be bound to, the operators' first (they are sent only on their
# own pages, where they are the session that counts).
SESSION_COOKIES = (SUPPLIER_OPERATOR_COOKIE, AUDITOR_OPERATOR_COOKIE, SESSION_COOKIE)


def set_session_cookie(request: Request, response: Response, issued: IssuedSession) -> None:
    # HttpOnly: no script reads it; SameSite=Lax: not sent on cross-site POSTs (CSRF tokens guard the rest).
    response.set_cookie(
        SESSION_COOKIE,
        issued.token,
        max_age=issued.expires_in,
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="lax",
        path="/",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
