"""Register, log in, log out."""

from __future__ import annotations

from typing import Annotated

from fastapi import Cookie, Depends, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials

from api.accounts.schemas import AccountCreate, AccountRead, Credentials, SessionTokens
from api.deps import ClientAddressDep, RuntimeDep, WriteSessionDep
from api.links import link
from api.me.auth import consumer_bearer
from api.problems import problem_responses
from api.ratelimit import rate_limited
from api.routing import api_router
from api.session_cookie import SESSION_COOKIE, clear_session_cookie, set_session_cookie
from infomediary.customers import service
from infomediary.customers.errors import InvalidSession
from infomediary.flows import account_registered
from infomediary.text import Opaque

router = api_router(tags=["consumer"])

# OpenAPI links: register, then log in with the same credentials, then use the session on the profile.
_CREDENTIALS = {"email": "$request.body#/email", "password": "$request.body#/password"}
_LOG_IN = link("/v1/session", "post", requestBody=_CREDENTIALS)
_BEARER = {"header.Authorization": "Bearer {$response.body#/access_token}"}
_USE_SESSION = {
    "profile": link("/v1/me/profile", "get", parameters=_BEARER),
    "edit_profile": link("/v1/me/profile", "patch", parameters=_BEARER),
}


@router.post(
    "/v1/accounts",
    status_code=status.HTTP_201_CREATED,
    response_model=AccountRead,
    responses={**problem_responses(409, 413, 422, 429), 201: {"links": {"log_in": _LOG_IN}}},
    dependencies=[rate_limited("registration")],
    summary="Register a consumer account",
)
def register(body: AccountCreate, session: WriteSessionDep, runtime: RuntimeDep) -> AccountRead:
    account = account_registered.register(session, runtime, email=body.email, password=body.password)
    return AccountRead(id=account.customer_id, created_at=account.created_at)


@router.post(
    "/v1/session",
    response_model=SessionTokens,
    responses={**problem_responses(401, 413, 422, 429), 200: {"links": _USE_SESSION}},
    dependencies=[rate_limited("login")],
    summary="Log in; returns a bearer token and sets the session cookie used by pages",
)
def log_in(
    body: Credentials,
    request: Request,
    response: Response,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    address: ClientAddressDep,
) -> SessionTokens:
    issued = service.login(session, runtime, email=body.email, password=body.password, client_address=address)
    set_session_cookie(request, response, issued)
    return SessionTokens(access_token=issued.token, expires_in=issued.expires_in)


@router.delete(
    "/v1/session",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401),
    summary="Log out: revoke this session (bearer token or cookie)",
)
def log_out(
    response: Response,
    session: WriteSessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(consumer_bearer)],
    cookie: Annotated[Opaque | None, Cookie(alias=SESSION_COOKIE)] = None,
) -> None:
    token = credentials.credentials if credentials else cookie
    if not token:
        raise InvalidSession("no session to end")
    service.logout(session, service.authenticate(session, token))
    clear_session_cookie(response)
