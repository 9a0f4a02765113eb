"""Authenticating the consumer: a session bearer token (the cookie is for pages)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.deps import RequestSessionDep, route_writes
from infomediary.customers import service
from infomediary.customers.errors import InvalidSession
from infomediary.customers.service import AuthenticatedConsumer

consumer_bearer = HTTPBearer(
    scheme_name="ConsumerSession",
    description="The `access_token` returned by `POST /v1/session`.",
    auto_error=False,
)


async def current_consumer(
    request: Request,
    session: RequestSessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(consumer_bearer)],
) -> AuthenticatedConsumer:
    if credentials is None:
        error = InvalidSession("send the session token as `Authorization: Bearer <token>`")
    else:
        try:
            return await session.run(
                service.authenticate, credentials.credentials, for_writing=route_writes(request)
            )
        except InvalidSession as exc:
            error = exc
    error.headers["WWW-Authenticate"] = 'Bearer realm="infomediary"'
    raise error


CurrentConsumer = Annotated[AuthenticatedConsumer, Depends(current_consumer)]
