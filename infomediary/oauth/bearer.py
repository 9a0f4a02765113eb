"""Authenticating a bearer access token on a protected route: who is calling, with which scopes.

Every request checks the signature, `typ`, issuer, audience and expiry (authlib's RFC 9068 validator), then
in one query that the client still exists, that its owner is not suspended and that the token was not revoked.
"""

from __future__ import annotations

from dataclasses import dataclass

from authlib.oauth2.rfc6750.errors import InvalidTokenError
from sqlalchemy import select
from sqlalchemy.orm import Session

from infomediary.auditors.models import Auditor
from infomediary.oauth.errors import ClientSuspended, InsufficientScope, InvalidToken, WrongActor
from infomediary.oauth.models import ClientKind, OAuthClient, RevokedToken
from infomediary.oauth.server import AccessTokenValidator
from infomediary.runtime import Runtime
from infomediary.suppliers.models import Supplier, SupplierStatus


@dataclass(frozen=True)
class Principal:
    kind: ClientKind
    owner_id: str
    client_id: str
    scopes: frozenset[str]
    jti: str
    owner_status: str

    def require(self, kind: ClientKind, *scopes: str) -> Principal:
        if self.kind is not kind:
            raise WrongActor(f"this route is for {kind.value}s")
        if self.owner_status == SupplierStatus.SUSPENDED:
            raise ClientSuspended(f"this {kind.value} is suspended")
        for scope in scopes:
            if scope not in self.scopes:
                raise InsufficientScope(scope)
        return self


class BearerAuthenticator:
    """Built once per process: the validator caches parsed keys and reloads them after a rotation."""

    def __init__(self, runtime: Runtime) -> None:
        self.validator = AccessTokenValidator(runtime)

    def authenticate(self, session: Session, token: str) -> Principal:
        try:
            claims = self.validator.authenticate_token(token)
            self.validator.validate_token(claims, scopes=None, request=None)
        except InvalidTokenError as exc:
            raise InvalidToken("the access token is invalid or expired") from exc
        jti = str(claims["jti"])
        row = session.execute(
            select(
                OAuthClient.kind,
                OAuthClient.supplier_id,
                OAuthClient.auditor_id,
                Supplier.status,
                Auditor.status,
                RevokedToken.jti,
            )
            .outerjoin(Supplier, Supplier.id == OAuthClient.supplier_id)
            .outerjoin(Auditor, Auditor.id == OAuthClient.auditor_id)
            .outerjoin(RevokedToken, RevokedToken.jti == jti)
            .where(OAuthClient.client_id == claims["client_id"], OAuthClient.disabled_at.is_(None))
        ).first()
        if row is None:
            raise InvalidToken("the client behind this token no longer exists")
        kind, supplier_id, auditor_id, supplier_status, auditor_status, revoked_jti = row
        if revoked_jti is not None:
            raise InvalidToken("the access token was revoked")
        scope = claims.get("scope") or ""
        return Principal(
            kind=ClientKind(kind),
            owner_id=supplier_id or auditor_id,
            client_id=str(claims["client_id"]),
            scopes=frozenset(scope.split() if isinstance(scope, str) else scope),
            jti=jti,
            owner_status=supplier_status or auditor_status or "active",
        )
