"""The authorization server, built on authlib's framework-agnostic `AuthorizationServer`.

Only the client credentials grant is registered. Access tokens are RFC 9068 JWTs signed with the service's
current ES256 key; revocation follows RFC 7009 and records the token's `jti` until it would expire anyway.
The HTTP adapter (turning a Starlette request into an `OAuth2Request` and back) lives in `api/oauth`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, InvalidScopeError, TokenMixin, grants
from authlib.oauth2.rfc6750.errors import InvalidTokenError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator, JWTBearerTokenValidator
from joserfc.jwk import KeySet
from sqlalchemy import select

from infomediary.auditors.models import Auditor
from infomediary.database import WriteSession, upsert_insert
from infomediary.ids import looks_like_id
from infomediary.oauth.credentials import secret_matches
from infomediary.oauth.models import OAuthClient, RevokedToken
from infomediary.runtime import Runtime
from infomediary.settings import AUDITOR_SCOPES, SUPPLIER_SCOPES
from infomediary.suppliers.models import Supplier, SupplierStatus

AUTH_METHODS = ("client_secret_basic", "client_secret_post")


class RegisteredClient(ClientMixin):  # type: ignore[misc]
    """An `OAuthClient` row seen through authlib's client interface."""

    def __init__(self, row: OAuthClient, owner_status: str) -> None:
        self.row = row
        self.owner_status = owner_status
        self.allowed_scopes = frozenset(row.scopes.split())

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        if not scope:
            return " ".join(sorted(self.allowed_scopes))
        return " ".join(s for s in scope.split() if s in self.allowed_scopes)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        return secret_matches(self.row.secret_hash, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        # A suspended owner authenticates but gets `unauthorized_client`: no new tokens.
        return grant_type == "client_credentials" and self.owner_status != SupplierStatus.SUSPENDED


class ClientCredentialsGrant(grants.ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = list(AUTH_METHODS)

    def validate_token_request(self) -> None:
        super().validate_token_request()
        requested = set((self.request.payload.scope or "").split())
        if not requested <= self.request.client.allowed_scopes:
            raise InvalidScopeError(description="the client may not request some of these scopes")


class AccessTokenGenerator(JWTBearerTokenGenerator):  # type: ignore[misc]
    def __init__(self, runtime: Runtime) -> None:
        super().__init__(
            issuer=runtime.settings.issuer,
            alg="ES256",
            expires_generator=runtime.settings.access_token_ttl_seconds,
        )
        self.runtime = runtime

    def get_jwks(self) -> KeySet:
        return self.runtime.keys.current_signing_jwk()

    def get_audiences(self, client: Any, user: Any, scope: Any) -> str:
        return self.runtime.settings.token_audience


class AccessTokenValidator(JWTBearerTokenValidator):  # type: ignore[misc]
    """Signature, `typ`, issuer, audience, expiry and required claims, per RFC 9068 section 4."""

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(issuer=runtime.settings.issuer, resource_server=runtime.settings.token_audience)
        self.runtime = runtime

    def get_jwks(self) -> KeySet:
        return self.runtime.keys.verification_keys()

    def authenticate_token(self, token_string: str) -> Any:
        claims = super().authenticate_token(token_string)
        # A client registered without scopes is issued a token whose `scope` is "": a valid token that grants
        # no scope (it still reads the supplier's own record), not an invalid one.
        claims.options["scope"] = {"essential": False, "allow_blank": True}
        return claims


class RevocableToken(TokenMixin):  # type: ignore[misc]
    def __init__(self, claims: dict[str, Any]) -> None:
        self.claims = claims

    def check_client(self, client: RegisteredClient) -> bool:
        return bool(self.claims.get("client_id") == client.get_client_id())


class TokenRevocation(RevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = list(AUTH_METHODS)
    SUPPORTED_TOKEN_TYPES = ("access_token",)

    def __init__(self, server: BrokerAuthorizationServer) -> None:
        super().__init__(server=server)
        self.broker = server

    def query_token(self, token_string: str, token_type_hint: str | None) -> RevocableToken | None:
        validator = AccessTokenValidator(self.broker.runtime)
        try:
            claims = validator.authenticate_token(token_string)
            validator.validate_token(claims, scopes=None, request=None)
        except InvalidTokenError:
            return None  # RFC 7009 section 2.2: an invalid token needs no revocation; answer 200 anyway.
        return RevocableToken(dict(claims))

    def revoke_token(self, token: RevocableToken, request: Any) -> None:
        session = self.broker.session
        # Insert-or-nothing: two revocations of one token at the same moment both succeed (RFC 7009 makes a
        # revocation idempotent), where a read-then-insert let the second fail on the key.
        session.execute(
            upsert_insert(session, RevokedToken)
            .values(
                jti=str(token.claims["jti"]),
                client_id=str(token.claims["client_id"]),
                expires_at=datetime.fromtimestamp(int(token.claims["exp"]), UTC),
            )
            .on_conflict_do_nothing()
        )


class BrokerAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    """One per request: it holds that request's database session."""

    def __init__(self, session: WriteSession, runtime: Runtime) -> None:
        super().__init__(scopes_supported=[*SUPPLIER_SCOPES, *AUDITOR_SCOPES])
        self.session = session
        self.runtime = runtime
        self.register_grant(ClientCredentialsGrant)
        self.register_token_generator("default", AccessTokenGenerator(runtime))
        self.register_endpoint(TokenRevocation(self))

    def query_client(self, client_id: str) -> RegisteredClient | None:
        if not looks_like_id(client_id):
            return None  # a client id of any other shape (a NUL, which PostgreSQL refuses) is simply unknown
        row = self.session.execute(
            select(OAuthClient, Supplier.status, Auditor.status)
            .outerjoin(Supplier, Supplier.id == OAuthClient.supplier_id)
            .outerjoin(Auditor, Auditor.id == OAuthClient.auditor_id)
            .where(OAuthClient.client_id == client_id, OAuthClient.disabled_at.is_(None))
        ).first()
        if row is None:
            return None
        client, supplier_status, auditor_status = row
        return RegisteredClient(client, supplier_status or auditor_status or "active")

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        # authlib's hook for framework signals; nothing here listens to them.
        return None

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        # JWT access tokens are self-contained; only revocations are stored.
        return None
