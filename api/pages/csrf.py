"""CSRF protection for every page form: an HMAC token bound to the visitor's session (OWASP's "signed double
submit cookie"), plus an Origin / Sec-Fetch-Site check.

The token is HMAC-SHA256(csrf secret, binding), where the binding is the session cookie (hashed) once
logged in, or a random pre-session cookie on the log-in and sign-up forms (so log-in CSRF fails too).
Nothing is stored: the server recomputes the token from the cookie the browser sends and compares in
constant time. A page from another site can neither read the cookie nor compute the HMAC without the
server's secret.

Why not a library: starlette-csrf checks a header only (forms without JavaScript cannot send one) and
fastapi-csrf-protect / asgi-csrf sign a random token not tied to the session; this is the few lines the
OWASP cheat sheet prescribes, on `hmac` and `secrets` from the standard library.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import Request, Response

from api.session_cookie import SESSION_COOKIES
from infomediary.errors import Forbidden
from infomediary.runtime import Runtime

FIELD = "csrf_token"
PRESESSION_COOKIE = "infomediary_presession"
_CONTEXT = b"infomediary/csrf/v1\x00"


class CsrfRejected(Forbidden):
    slug = "csrf-rejected"
    title = "This form has expired or did not come from this site"


def _binding(request: Request) -> bytes | None:
    for name in SESSION_COOKIES:
        session = request.cookies.get(name)
        if session:
            return b"session\x00" + hashlib.sha256(session.encode()).digest()
    presession = request.cookies.get(PRESESSION_COOKIE)
    if presession:
        return b"presession\x00" + presession.encode()
    return None


def _token(runtime: Runtime, binding: bytes) -> str:
    mac = hmac.new(runtime.keys.secret("csrf"), _CONTEXT + binding, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def issue(request: Request) -> str:
    """The token for forms on this page; starts a pre-session cookie for a visitor who has no cookie yet."""
    runtime: Runtime = request.app.state.runtime
    binding = _binding(request)
    if binding is None:
        presession = getattr(request.state, "presession", None) or secrets.token_urlsafe(32)
        request.state.presession = presession
        binding = b"presession\x00" + presession.encode()
    return _token(runtime, binding)


def attach_presession(request: Request, response: Response) -> None:
    presession = getattr(request.state, "presession", None)
    if presession:
        response.set_cookie(
            PRESESSION_COOKIE,
            presession,
            httponly=True,
            secure=request.url.scheme == "https",
            samesite="lax",
            path="/",
        )


def _same_origin(request: Request) -> bool:
    # Browsers send Origin on every POST; a mismatch is a cross-site form whatever the token says. The
    # configured public base URL is ours too (behind a TLS-terminating proxy a request looks like http).
    origin = request.headers.get("origin")
    if origin is not None:
        runtime: Runtime = request.app.state.runtime
        public = urlsplit(runtime.settings.issuer)
        ours = {(request.url.scheme, request.url.netloc), (public.scheme, public.netloc)}
        parts = urlsplit(origin)
        if origin == "null" or (parts.scheme, parts.netloc) not in ours:
            return False
    return request.headers.get("sec-fetch-site", "same-origin") in {"same-origin", "none"}


async def verify_csrf(request: Request) -> None:
    """Runs before every unsafe page route (see `PageRoute`): refuses the request unless the form's token
    matches the visitor's cookie binding."""
    if not _same_origin(request):
        raise CsrfRejected("the form was posted from another site")
    binding = _binding(request)
    form = await request.form()
    sent = form.get(FIELD)
    if binding is None or not isinstance(sent, str) or not sent:
        raise CsrfRejected("reload the page and send the form again")
    expected = _token(request.app.state.runtime, binding)
    if not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfRejected("reload the page and send the form again")
