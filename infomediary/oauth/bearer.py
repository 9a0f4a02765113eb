"""Authenticating a bearer access token on a protected route: who is calling, with which scopes.

Every request checks the signature, `typ`, issuer, audience and expiry (authlib's RFC 9068 validator), then
in one query that the client still exists, that its owner is not suspended and that the token was not revoked.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from authlib.oauth2.rfc6750.errors import InvalidTokenError
from joserfc.jwk import KeySet
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from infomediary.auditors.models import Auditor
from infomediary.database import PreparedRead, UTCDateTime
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
    # The owner's own record, read in the same query as its status: a caller asking for itself needs no other.
    owner_name: str
    owner_created_at: datetime

    def require(self, kind: ClientKind, *scopes: str) -> Principal:
        if self.kind is not kind:
            raise WrongActor(f"this route is for {kind.value}s")
        if self.owner_status == SupplierStatus.SUSPENDED:
            raise ClientSuspended(f"this {kind.value} is suspended")
        for scope in scopes:
            if scope not in self.scopes:
                raise InsufficientScope(scope)
        return self


# Built once with bind parameters: constructing this select costs several times more than running it.
CLIENT_STATE = (
    select(
        OAuthClient.kind,
        OAuthClient.supplier_id,
        OAuthClient.auditor_id,
        Supplier.status,
        Auditor.status,
        RevokedToken.jti,
        func.coalesce(Supplier.name, Auditor.name),
        func.coalesce(Supplier.created_at, Auditor.created_at, type_=UTCDateTime()),
    )
    .outerjoin(Supplier, Supplier.id == OAuthClient.supplier_id)
    .outerjoin(Auditor, Auditor.id == OAuthClient.auditor_id)
    .outerjoin(RevokedToken, RevokedToken.jti == bindparam("jti"))
    .where(OAuthClient.client_id == bindparam("client_id"), OAuthClient.disabled_at.is_(None))
)
"""The client, its owner's status and record, and whether the token was revoked: eight columns, then
whatever a route adds to read in the same round trip (`BearerAuthenticator.authenticate_with`)."""
_CLIENT_STATE = PreparedRead(CLIENT_STATE)
_STATE_COLUMNS = 8


@dataclass(frozen=True)
class VerifiedToken:
    """What a signature- and claim-checked token says; it cannot change while the token lives."""

    client_id: str
    jti: str
    scopes: frozenset[str]
    expires_at: int
    keys: KeySet  # the key set it was verified against


class BearerAuthenticator:
    """Built once per process.

    A token's signature and claims are checked once and remembered (bounded, until the token expires or the
    published keys change); what can change at any moment (revocation, the client, its owner's status) is
    read from the database on every request.
    """

    def __init__(self, runtime: Runtime, *, cache_size: int = 10_000) -> None:
        self.runtime = runtime
        self.validator = AccessTokenValidator(runtime)
        self._verified: OrderedDict[str, VerifiedToken] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def verify(self, token: str) -> VerifiedToken:
        keys = self.runtime.keys.verification_keys()
        cached = self._verified.get(token)
        if cached is not None and cached.keys is keys and cached.expires_at > time.time():
            return cached
        try:
            claims = self.validator.authenticate_token(token)
            self.validator.validate_token(claims, scopes=None, request=None)
        except InvalidTokenError as exc:
            raise InvalidToken("the access token is invalid or expired") from exc
        scope = claims.get("scope") or ""
        verified = VerifiedToken(
            client_id=str(claims["client_id"]),
            jti=str(claims["jti"]),
            scopes=frozenset(scope.split() if isinstance(scope, str) else scope),
            expires_at=int(claims["exp"]),
            keys=keys,
        )
        with self._lock:
            self._verified[token] = verified
            while len(self._verified) > self._cache_size:
                self._verified.popitem(last=False)
        return verified

    def authenticate(self, session: Session, token: str) -> Principal:
        principal, _ = self.authenticate_with(session, token, _CLIENT_STATE, {})
        return principal

    def authenticate_with(
        self, session: Session, token: str, read: PreparedRead, params: Mapping[str, Any]
    ) -> tuple[Principal, tuple[Any, ...]]:
        """Authenticate with `read`: `CLIENT_STATE` with columns of the route's own added, so a route that
        needs a few figures about its caller (the supplier's dashboard) gets them in the same round trip.
        Answers the principal and the added columns."""
        verified = self.verify(token)
        row = read.first(session, {"jti": verified.jti, "client_id": verified.client_id, **params})
        if row is None:
            raise InvalidToken("the client behind this token no longer exists")
        state, added = row[:_STATE_COLUMNS], row[_STATE_COLUMNS:]
        kind, supplier_id, auditor_id, supplier_status, auditor_status, revoked_jti, name, created_at = state
        if revoked_jti is not None:
            raise InvalidToken("the access token was revoked")
        principal = Principal(
            kind=ClientKind(kind),
            owner_id=supplier_id or auditor_id,
            client_id=verified.client_id,
            scopes=verified.scopes,
            jti=verified.jti,
            owner_status=supplier_status or auditor_status or "active",
            owner_name=name,
            owner_created_at=created_at,
        )
        return principal, added
