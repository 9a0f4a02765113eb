"""Database baselines for `bench.http` on PostgreSQL: the service's `GET /v1/supplier`, hand-written.

Two FastAPI apps (uvicorn factories) answer `GET /v1/supplier` with the service's body, byte for byte (the
benchmark compares them before measuring), doing the lookups the service needs, written the plain way: the
bearer check, then the figures.

- `raw_app`: on a raw asyncpg pool. Its statement cache prepares each statement once per connection, so a
  request is one Bind/Execute/Sync round trip per statement.
- `core_app`: the same statements built with SQLAlchemy Core and run on `create_async_engine`
  ("postgresql+asyncpg"): what SQLAlchemy itself costs on top of asyncpg, without the ORM session.

The service reads the same rows in one statement instead of two (`infomediary.supplier_dashboard.
caller_and_figures`: the bearer check's statement with the figures' subqueries added), sent straight to
asyncpg (`infomediary.database.PreparedRead`): that design, not a faster driver, is what issue 16 asked for.

Their ratio to the service is issue 16's goal: server CPU per request of the service at most 1.5 times the
raw asyncpg baseline's. So they must do the work the service has to do, and no less:

Matched:
- The bearer token: an ES256 signature checked with the service's own published keys (read from its key
  directory), `typ` at+jwt, issuer, audience, expiry and the claims RFC 9068 requires. Like the service
  (`infomediary.oauth.bearer.BearerAuthenticator.verify`), a token is verified once and remembered until it
  expires, so in the steady state neither pays for the signature; both look the token up on every request.
- The lookups, in autocommit on connections PostgreSQL keeps from writing (`default_transaction_read_only`),
  as the service's read sessions: the client, its owner's status and record and the token's revocation
  (the service's `CLIENT_STATE`), then the dashboard figures (strikes, epsilon spent this period, ledger
  balance: `infomediary.supplier_dashboard._FIGURES`). Two round trips here, one in the service.
- The caller's checks (a supplier client, not disabled, not suspended, token not revoked) and the answer:
  the same pydantic model, budget and period arithmetic (`infomediary.audiences.budget`) and settings.

Not matched (each small, and none a database lookup):
- Key rotation: the service stats its key file on every request to notice a rotation; these load the keys
  once at start-up.
- The token's first verification uses joserfc directly rather than authlib's RFC 9068 validator (the same
  signature check; it happens once per token, outside the measured steady state).
- Problem+json error bodies and the service's middleware (security headers, metrics, body limit): errors
  are plain HTTPExceptions, and there is no middleware.
- asyncpg's pool would send `RESET ALL` and friends on every release, a round trip the service's pool does
  not make (SQLAlchemy returns an autocommit connection as it is); these pools skip it too.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, FastAPI, Header, HTTPException, Request
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from pydantic import BaseModel
from sqlalchemy import bindparam, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from infomediary.audiences.budget import budget_milli, period_of
from infomediary.audiences.models import EpsilonLedgerRow
from infomediary.audiences.noise import MILLI
from infomediary.auditors.models import Auditor
from infomediary.database import REQUEST_READ_POOL, UTCDateTime
from infomediary.keymaterial import KeyMaterial
from infomediary.ledger.models import LedgerAccount, OwnerKind
from infomediary.oauth.models import ClientKind, OAuthClient, RevokedToken
from infomediary.sanctions.models import SanctionKind, SupplierSanction
from infomediary.settings import Settings
from infomediary.suppliers.models import Supplier, SupplierStatus

# What PostgreSQL enforces on the service's request connections (its read engine's).
SERVER_SETTINGS = {"default_transaction_read_only": "on"}
# As many connections as the service's request read engine keeps. Both pools keep every connection they
# open: asyncpg's up to max_size, SQLAlchemy's because it gets no overflow. With overflow (10 + 10),
# SQLAlchemy closes a connection returned to a full pool and opens another (and prepares its statements
# again) soon after: under the benchmark's 32 connections that was some 130 new connections in a 5-second
# run, and nearly twice the CPU per request. Neither the service's request path nor these baselines
# overflow: requests beyond the pool queue for a connection (`infomediary.database.create_async_db_engine`).
POOL_MAX = REQUEST_READ_POOL
TOKEN_CACHE_SIZE = 10_000  # as the service's BearerAuthenticator


class SupplierRead(BaseModel):
    """The shape of `api.supplier.schemas.SupplierRead` (without its OpenAPI descriptions): same fields, same
    types, so the body and its serialisation are the service's."""

    id: str
    name: str
    status: str
    created_at: datetime
    scopes: list[str]
    strikes: int
    epsilon_remaining: float
    ledger_balance: int
    credit_line: int


@dataclass(frozen=True)
class VerifiedToken:
    client_id: str
    jti: str
    scopes: frozenset[str]
    expires_at: int


class TokenVerifier:
    """Checks a bearer token once and remembers it until it expires, like the service (see the module)."""

    def __init__(self, settings: Settings) -> None:
        self.keys: KeySet = KeyMaterial(settings.resolved_keys_dir).verification_keys()
        # The claims authlib's JWTBearerTokenValidator requires of an RFC 9068 access token.
        self.registry = jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": settings.issuer},
            aud={"essential": True, "value": settings.token_audience},
            exp={"essential": True},
            sub={"essential": True},
            client_id={"essential": True},
            iat={"essential": True},
            jti={"essential": True},
        )
        self._verified: OrderedDict[str, VerifiedToken] = OrderedDict()

    def verify(self, token: str) -> VerifiedToken:
        cached = self._verified.get(token)
        if cached is not None and cached.expires_at > time.time():
            return cached
        try:
            decoded = jwt.decode(token, self.keys, algorithms=["ES256"])
            if str(decoded.header.get("typ", "")).lower() not in ("at+jwt", "application/at+jwt"):
                raise HTTPException(401, "not an access token")
            self.registry.validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise HTTPException(401, "the access token is invalid or expired") from exc
        claims = decoded.claims
        scope = claims.get("scope") or ""
        verified = VerifiedToken(
            client_id=str(claims["client_id"]),
            jti=str(claims["jti"]),
            scopes=frozenset(scope.split() if isinstance(scope, str) else scope),
            expires_at=int(claims["exp"]),
        )
        # One event loop, no threads: no lock needed where the service takes one.
        self._verified[token] = verified
        while len(self._verified) > TOKEN_CACHE_SIZE:
            self._verified.popitem(last=False)
        return verified


@dataclass(frozen=True)
class Caller:
    supplier_id: str
    status: str
    name: str
    created_at: datetime
    scopes: frozenset[str]


# A lookup takes the request's connection and its parameters, and answers one row (or None for no row).
ClientState = Callable[[Any, str, str], Awaitable[Sequence[Any] | None]]
Figures = Callable[[Any, str, datetime], Awaitable[Sequence[Any]]]


def _bearer(header: str | None) -> str:
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, "a bearer token is required")
    return token.strip()


async def _connection(request: Request) -> AsyncIterator[Any]:
    """The request's one connection, shared by authentication and the endpoint (as the service's session
    is), from the app's `state.connect` (the asyncpg pool's or the engine's), returned before the response
    is sent."""
    async with request.app.state.connect() as conn:
        yield conn


Connection = Annotated[Any, Depends(_connection, scope="function")]


def _build(
    title: str, lifespan: Callable[[FastAPI], Any], client_state: ClientState, figures: Figures
) -> FastAPI:
    """One app, whichever driver: the route, its authentication dependency and the answer are shared, so the
    two baselines differ only in how they reach the database."""
    settings = Settings()
    verifier = TokenVerifier(settings)

    async def supplier(conn: Connection, authorization: Annotated[str | None, Header()] = None) -> Caller:
        verified = verifier.verify(_bearer(authorization))
        row = await client_state(conn, verified.jti, verified.client_id)
        if row is None:
            raise HTTPException(401, "the client behind this token no longer exists")
        kind, supplier_id, auditor_id, supplier_status, auditor_status, revoked_jti, name, created_at = row
        if revoked_jti is not None:
            raise HTTPException(401, "the access token was revoked")
        if kind != ClientKind.SUPPLIER.value:
            raise HTTPException(403, "this route is for suppliers")
        status = supplier_status or auditor_status or "active"
        if status == SupplierStatus.SUSPENDED.value:
            raise HTTPException(403, "this supplier is suspended")
        return Caller(supplier_id or auditor_id, status, name, created_at, verified.scopes)

    app = FastAPI(title=title, openapi_url=None, docs_url=None, redoc_url=None, lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    # A default, not `Annotated`: from a postponed annotation FastAPI could not resolve the local `supplier`.
    @app.get("/v1/supplier", response_model=SupplierRead)
    async def read_supplier(conn: Connection, caller: Caller = Depends(supplier)) -> SupplierRead:
        period_start = period_of(datetime.now(UTC), settings).start
        strikes, spent, balance = await figures(conn, caller.supplier_id, period_start)
        remaining = max(0, budget_milli(settings, caller.status) - int(spent))
        return SupplierRead(
            id=caller.supplier_id,
            name=caller.name,
            status=caller.status,
            created_at=caller.created_at,
            scopes=sorted(caller.scopes),
            strikes=int(strikes),
            epsilon_remaining=remaining / MILLI,
            ledger_balance=int(balance),
            credit_line=settings.supplier_credit_line,
        )

    return app


def _database_url(driver: str) -> str:
    """The service's database (`INFOMEDIARY_DATABASE_URL`) for another driver."""
    url = make_url(Settings().resolved_database_url)
    if url.get_backend_name() != "postgresql":
        raise RuntimeError("the database baselines need PostgreSQL (INFOMEDIARY_DATABASE_URL)")
    return url.set(drivername=driver).render_as_string(hide_password=False)


# -- raw asyncpg -------------------------------------------------------------------------------------------

# The service's statements, as SQLAlchemy renders them for PostgreSQL, with positional parameters.
CLIENT_STATE_SQL = """
SELECT c.kind, c.supplier_id, c.auditor_id, s.status, a.status, r.jti,
       coalesce(s.name, a.name), coalesce(s.created_at, a.created_at)
FROM oauth_clients c
LEFT OUTER JOIN suppliers s ON s.id = c.supplier_id
LEFT OUTER JOIN auditors a ON a.id = c.auditor_id
LEFT OUTER JOIN revoked_tokens r ON r.jti = $1::VARCHAR
WHERE c.client_id = $2::VARCHAR AND c.disabled_at IS NULL
"""
FIGURES_SQL = """
SELECT (SELECT count(*) FROM supplier_sanctions
        WHERE supplier_id = $1::VARCHAR AND kind = $3::VARCHAR),
       coalesce((SELECT spent_milli FROM epsilon_ledger
                 WHERE supplier_id = $1::VARCHAR AND period_start = $2::TIMESTAMP WITH TIME ZONE), 0),
       coalesce((SELECT total FROM ledger_accounts
                 WHERE owner_kind = $4::VARCHAR AND owner_id = $1::VARCHAR), 0)
"""


async def _keep_session(_connection: asyncpg.Connection) -> None:
    """Release without asyncpg's reset query (see the module): these connections change no session state."""


def raw_app() -> FastAPI:
    """Uvicorn factory: the baseline on a raw asyncpg pool."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(
            _database_url("postgresql"),
            min_size=POOL_MAX,
            max_size=POOL_MAX,
            server_settings=SERVER_SETTINGS,
            reset=_keep_session,
        )
        app.state.connect = pool.acquire
        try:
            yield
        finally:
            await pool.close()

    async def client_state(conn: asyncpg.Connection, jti: str, client_id: str) -> asyncpg.Record | None:
        row: asyncpg.Record | None = await conn.fetchrow(CLIENT_STATE_SQL, jti, client_id)
        return row

    async def figures(conn: asyncpg.Connection, supplier_id: str, period_start: datetime) -> asyncpg.Record:
        row: asyncpg.Record = await conn.fetchrow(
            FIGURES_SQL, supplier_id, period_start, SanctionKind.STRIKE.value, OwnerKind.SUPPLIER.value
        )
        return row

    return _build("asyncpg baseline", lifespan, client_state, figures)


# -- SQLAlchemy async Core on asyncpg ----------------------------------------------------------------------

_clients, _suppliers, _auditors = OAuthClient.__table__, Supplier.__table__, Auditor.__table__
_revoked, _sanctions = RevokedToken.__table__, SupplierSanction.__table__
_epsilon, _accounts = EpsilonLedgerRow.__table__, LedgerAccount.__table__

# The service's two statements over the tables rather than the mapped classes: Core, no ORM.
CLIENT_STATE = (
    select(
        _clients.c.kind,
        _clients.c.supplier_id,
        _clients.c.auditor_id,
        _suppliers.c.status,
        _auditors.c.status,
        _revoked.c.jti,
        func.coalesce(_suppliers.c.name, _auditors.c.name),
        func.coalesce(_suppliers.c.created_at, _auditors.c.created_at, type_=UTCDateTime()),
    )
    .outerjoin(_suppliers, _suppliers.c.id == _clients.c.supplier_id)
    .outerjoin(_auditors, _auditors.c.id == _clients.c.auditor_id)
    .outerjoin(_revoked, _revoked.c.jti == bindparam("jti"))
    .where(_clients.c.client_id == bindparam("client_id"), _clients.c.disabled_at.is_(None))
)
FIGURES = select(
    select(func.count())
    .select_from(_sanctions)
    .where(
        _sanctions.c.supplier_id == bindparam("supplier_id"),
        _sanctions.c.kind == SanctionKind.STRIKE.value,
    )
    .scalar_subquery(),
    func.coalesce(
        select(_epsilon.c.spent_milli)
        .where(
            _epsilon.c.supplier_id == bindparam("supplier_id"),
            _epsilon.c.period_start == bindparam("period_start"),
        )
        .scalar_subquery(),
        0,
    ),
    func.coalesce(
        select(_accounts.c.total)
        .where(
            _accounts.c.owner_kind == OwnerKind.SUPPLIER.value,
            _accounts.c.owner_id == bindparam("supplier_id"),
        )
        .scalar_subquery(),
        0,
    ),
)


def core_app() -> FastAPI:
    """Uvicorn factory: the baseline on SQLAlchemy async Core over asyncpg."""
    engine: AsyncEngine = create_async_engine(
        _database_url("postgresql+asyncpg"),
        pool_size=POOL_MAX,
        max_overflow=0,
        # As the service's request reads: no BEGIN and COMMIT round trips, on connections that cannot write.
        isolation_level="AUTOCOMMIT",
        connect_args={"server_settings": SERVER_SETTINGS},
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.connect = engine.connect
        try:
            yield
        finally:
            await engine.dispose()

    async def client_state(conn: AsyncConnection, jti: str, client_id: str) -> Sequence[Any] | None:
        return (await conn.execute(CLIENT_STATE, {"jti": jti, "client_id": client_id})).first()

    async def figures(conn: AsyncConnection, supplier_id: str, period_start: datetime) -> Sequence[Any]:
        params = {"supplier_id": supplier_id, "period_start": period_start}
        return (await conn.execute(FIGURES, params)).one()

    return _build("SQLAlchemy async Core baseline", lifespan, client_state, figures)
