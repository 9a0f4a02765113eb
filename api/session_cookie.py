"""The consumer's session cookie: set by `POST /v1/session` and by the login page, read by the pages."""

from __future__ import annotations

from fastapi import Request, Response

from infomediary.customers.service import IssuedSession

SESSION_COOKIE = "infomediary_session"


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
