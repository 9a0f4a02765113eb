"""Register, confirm the address, log in (with a second factor when on), log out, reset a password, confirm
a new login address."""

from __future__ import annotations

from typing import Annotated

from fastapi import Cookie, Depends, Request, Response, status
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials

from api.accounts.schemas import (
    Accepted,
    AccountCreate,
    AddressOnly,
    Credentials,
    EmailChangeIn,
    PasswordResetIn,
    SecondFactorChallenge,
    SecondFactorIn,
    SessionTokens,
    VerificationIn,
)
from api.deps import ClientAddressDep, RuntimeDep, WriteSessionDep
from api.links import link
from api.me.auth import consumer_bearer
from api.problems import problem_responses
from api.ratelimit import rate_limited
from api.routing import api_router
from api.session_cookie import SESSION_COOKIE, clear_session_cookie, set_session_cookie
from infomediary.customers import password_reset, service, verification
from infomediary.customers.errors import InvalidSession
from infomediary.customers.service import IssuedSession
from infomediary.flows import account_registered, login_email_changed
from infomediary.text import Opaque

router = api_router(tags=["consumer"])

# OpenAPI links: register, then log in with the same credentials (403 `email-not-verified` until the link in
# the mail is followed), then use the session on the profile.
_CREDENTIALS = {"email": "$request.body#/email", "password": "$request.body#/password"}
_LOG_IN = link("/v1/session", "post", requestBody=_CREDENTIALS)
_BEARER = {"header.Authorization": "Bearer {$response.body#/access_token}"}
_USE_SESSION = {
    "profile": link("/v1/me/profile", "get", parameters=_BEARER),
    "edit_profile": link("/v1/me/profile", "patch", parameters=_BEARER),
}

# One answer per request, whatever the address: whether it has an account is told only to its mailbox.
REGISTERED = Accepted(
    detail="If this address can be used, a message is on its way to it: follow its link to finish."
)
LINK_RESENT = Accepted(
    detail="If an account with this address waits for confirmation, a new link is on its way to it."
)
RESET_REQUESTED = Accepted(
    detail="If an account has this address, a link to set a new password is on its way to it."
)

# Every public route that mails someone or spends a mailed token counts against the registration limit of
# the client's address, so spreading requests over them gains nothing.
_MAILING = [rate_limited("registration")]


@router.post(
    "/v1/accounts",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    responses={**problem_responses(413, 422, 429), 202: {"links": {"log_in": _LOG_IN}}},
    dependencies=_MAILING,
    summary="Register a consumer account; the link mailed to the address confirms it",
    description=(
        "The same answer (202, same body) for a new address and one that already has an account, in "
        "comparable time: a new account gets a link that confirms its address (signing in is refused with "
        "403 `email-not-verified` until then); the owner of an existing one is told someone tried."
    ),
)
def register(body: AccountCreate, session: WriteSessionDep, runtime: RuntimeDep) -> Accepted:
    account_registered.register(session, runtime, email=body.email, password=body.password)
    return REGISTERED


@router.post(
    "/v1/accounts/verify",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(400, 413, 422, 429),
    dependencies=_MAILING,
    summary="Confirm the address with the token of the mailed link; the account can then sign in",
    description=(
        "A POST, not a GET: following a link must not be enough, or a mail scanner fetching it would confirm "
        "an account someone else opened in the address's name. The mailed link leads to a page whose button "
        "sends this. The token works once; 400 `link-invalid` when it was used, expired or never issued."
    ),
)
def verify(body: VerificationIn, session: WriteSessionDep) -> None:
    verification.confirm(session, body.token)


@router.post(
    "/v1/accounts/verify/resend",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    responses=problem_responses(413, 422, 429),
    dependencies=_MAILING,
    summary="Mail the confirmation link again (the same answer whatever the address)",
)
def resend_link(body: AddressOnly, session: WriteSessionDep, runtime: RuntimeDep) -> Accepted:
    verification.resend(session, runtime, body.email)
    return LINK_RESENT


@router.post(
    "/v1/accounts/password-reset",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    responses=problem_responses(413, 422, 429),
    dependencies=_MAILING,
    summary="Ask for a link to set a new password (the same answer whatever the address)",
)
def request_reset(body: AddressOnly, session: WriteSessionDep, runtime: RuntimeDep) -> Accepted:
    password_reset.request(session, runtime, body.email)
    return RESET_REQUESTED


@router.post(
    "/v1/accounts/password-reset/complete",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(400, 413, 422, 429),
    dependencies=_MAILING,
    summary="Set a new password with the token of the mailed link; every session ends",
)
def complete_reset(body: PasswordResetIn, session: WriteSessionDep, runtime: RuntimeDep) -> None:
    password_reset.complete(session, runtime, body.token, body.new_password)


@router.post(
    "/v1/accounts/email-change/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(400, 403, 409, 413, 422, 429),
    dependencies=_MAILING,
    summary="Confirm a new login address with the mailed link's token and your password; the login moves",
    description=(
        "The link is mailed when `PATCH /v1/me/profile` asks for a new `email`. From this call on, the new "
        "address signs in and the old one does not, and the profile's `email` is the new address. A POST "
        "for the reason `POST /v1/accounts/verify` is one. The token works once; 400 `link-invalid` when "
        "it was used, expired, replaced by a newer change or never issued; 409 `new-address-taken` when an "
        "account was registered with the address meanwhile (nothing changes)."
    ),
)
def confirm_email_change(
    body: EmailChangeIn, session: WriteSessionDep, runtime: RuntimeDep, address: ClientAddressDep
) -> None:
    login_email_changed.confirm(
        session, runtime, body.token, password=body.password, code=body.code, client_address=address
    )


@router.post(
    "/v1/session",
    response_model=SessionTokens,
    responses={
        **problem_responses(401, 403, 413, 422, 429),
        200: {"links": _USE_SESSION},
        202: {"model": SecondFactorChallenge, "description": "Password right; now the second factor."},
    },
    dependencies=[rate_limited("login")],
    summary="Log in; returns a bearer token and sets the session cookie used by pages",
    description=(
        "With two-step sign-in on, a right password answers 202 with a `challenge` instead: send it with a "
        "code to `POST /v1/session/second-factor`. 403 `email-not-verified`: the password is right, but the "
        "address was never confirmed (follow the mailed link, or `POST /v1/accounts/verify/resend`)."
    ),
)
def log_in(
    body: Credentials,
    request: Request,
    response: Response,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    address: ClientAddressDep,
) -> SessionTokens | JSONResponse:
    issued = service.login(session, runtime, email=body.email, password=body.password, client_address=address)
    if not isinstance(issued, IssuedSession):
        # No cookie yet: half a sign-in opens nothing.
        challenge = SecondFactorChallenge(challenge=issued.token, expires_in=issued.expires_in)
        return JSONResponse(challenge.model_dump(), status_code=status.HTTP_202_ACCEPTED)
    set_session_cookie(request, response, issued)
    return SessionTokens(access_token=issued.token, expires_in=issued.expires_in)


@router.post(
    "/v1/session/second-factor",
    response_model=SessionTokens,
    responses={**problem_responses(401, 413, 422, 429), 200: {"links": _USE_SESSION}},
    dependencies=[rate_limited("login")],
    summary="Finish a two-step log-in: the challenge and a code (authenticator or recovery code)",
    description=(
        "401 `second-factor-failed` for a wrong code (counted like a wrong password; the challenge stays "
        "usable until it expires), 401 `login-challenge-invalid` for an expired or used challenge (start "
        "again with the password). A code is accepted once: a replayed one is refused."
    ),
)
def second_factor(
    body: SecondFactorIn,
    request: Request,
    response: Response,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    address: ClientAddressDep,
) -> SessionTokens:
    issued = service.complete_login(
        session, runtime, challenge=body.challenge, code=body.code, client_address=address
    )
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
