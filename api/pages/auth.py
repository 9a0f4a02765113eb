"""Who is looking at a page: the consumer behind the session cookie, or a redirect to the log-in page."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Query, Request

from api.deps import RequestSessionDep, route_writes
from api.session_cookie import SESSION_COOKIE
from infomediary.customers import service
from infomediary.customers.errors import InvalidSession
from infomediary.customers.service import AuthenticatedConsumer
from infomediary.errors import Unauthenticated
from infomediary.text import Text


class LoginRequired(Unauthenticated):
    """Rendered by the page error handler as a redirect to `/login?next=<this page>`."""

    slug = "login-required"
    title = "Please log in"


async def page_consumer(request: Request, session: RequestSessionDep) -> AuthenticatedConsumer:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginRequired()
    try:
        return await session.run(service.authenticate, token, for_writing=route_writes(request))
    except InvalidSession as exc:
        raise LoginRequired() from exc


async def optional_consumer(request: Request, session: RequestSessionDep) -> AuthenticatedConsumer | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        return await session.run(service.authenticate, token, for_writing=route_writes(request))
    except InvalidSession:
        return None


PageConsumer = Annotated[AuthenticatedConsumer, Depends(page_consumer)]
OptionalConsumer = Annotated[AuthenticatedConsumer | None, Depends(optional_consumer)]


# Where to go after log-in, as the log-in page is asked (`safe_next` decides whether it may be followed).
NextQuery = Annotated[Text | None, Query(max_length=512)]
_LOCAL_PATH = re.compile(r"/(?![/\\])[A-Za-z0-9/_.~%?=&+-]{0,500}")


def safe_next(value: str | None, default: str = "/") -> str:
    """Only a local path may follow log-in: `//host`, `/\\host` or `https://...` would make the form an open
    redirect, and browsers drop tabs and newlines from URLs, so only plain path characters pass."""
    if value and _LOCAL_PATH.fullmatch(value):
        return value
    return default
