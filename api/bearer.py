"""Bearer-token authentication for OAuth clients (suppliers and auditors), with scopes in the signature.

Routes say who may call them: `Security(supplier, scopes=["audiences:read"])` documents the scope in OpenAPI
and is checked per request, together with the caller's kind and status.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import OAuth2, SecurityScopes

from api.deps import RequestSessionDep
from infomediary.oauth.bearer import BearerAuthenticator, Principal
from infomediary.oauth.errors import InvalidToken
from infomediary.oauth.models import ClientKind
from infomediary.settings import AUDITOR_SCOPES, SUPPLIER_SCOPES

oauth2_client_credentials = OAuth2(
    flows=OAuthFlows(
        clientCredentials=OAuthFlowClientCredentials(
            tokenUrl="/oauth/token",
            scopes={scope: scope for scope in (*SUPPLIER_SCOPES, *AUDITOR_SCOPES)},
        )
    ),
    scheme_name="OAuthClient",
    description="RFC 9068 JWT access token from `POST /oauth/token` (client credentials).",
    auto_error=False,
)


BearerHeader = Annotated[str | None, Depends(oauth2_client_credentials)]
"""The `Authorization` header, read through the OAuth scheme: OpenAPI documents the route's security."""


def bearer_token(header: str | None) -> str:
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise InvalidToken()
    return token.strip()


async def _authenticate(request: Request, session: RequestSessionDep, header: str | None) -> Principal:
    authenticator: BearerAuthenticator = request.app.state.bearer
    return await session.run(authenticator.authenticate, bearer_token(header))


def _caller(kind: ClientKind) -> Callable[..., Awaitable[Principal]]:
    """A dependency that admits only `kind` callers holding every scope the route names."""

    async def dependency(
        security_scopes: SecurityScopes,
        request: Request,
        session: RequestSessionDep,
        header: BearerHeader,
    ) -> Principal:
        principal = await _authenticate(request, session, header)
        return principal.require(kind, *security_scopes.scopes)

    dependency.__name__ = kind.value
    return dependency


supplier = _caller(ClientKind.SUPPLIER)
auditor = _caller(ClientKind.AUDITOR)

CurrentSupplier = Annotated[Principal, Security(supplier)]
"""Any authenticated, unsuspended supplier, whatever its scopes."""
