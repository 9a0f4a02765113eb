"""Request-scoped dependencies shared by every router: the runtime and the request's one unit of work.

A request has one session, shared by its dependencies (authentication) and its endpoint: an
`AsyncWriteSession` for a route that records anything, whatever its HTTP method, or an `AsyncReadSession`,
on connections the database keeps from writing, for one that only reads (the route's kind:
`api.routing`). It is one transaction, committed when the endpoint returns and rolled back when anything
raises (`UnitOfWork.end`), on the event loop, on the async driver (asyncpg, aiosqlite): no worker thread
ever holds a transaction, so there is nothing to gate, admit or finish elsewhere. See
docs/request-path.md.

The route (`api.routing.UnitOfWorkRoute`) opens the unit of work around its handler and ends it before the
response is sent; `get_session` hands the session out. Not a `yield` dependency: FastAPI's machinery for
those cost some 80 µs of CPU per request, a quarter of a whole authenticated read (bench/http.py).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Annotated, Any, cast

from anyio import CancelScope
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from infomediary.database import (
    AsyncReadSession,
    AsyncWriteSession,
    ReadOnlySessionError,
    ReadSession,
    RequestSession,
    RequestSessions,
    WriteSession,
)
from infomediary.errors import DomainError
from infomediary.runtime import Runtime


async def get_runtime(request: Request) -> Runtime:
    # async on purpose: FastAPI runs a plain `def` dependency in the thread pool, a hop for nothing here.
    runtime: Runtime = request.app.state.runtime
    return runtime


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def request_sessions(request: Request) -> RequestSessions:
    """The app's request session factories: opened by its lifespan (`api.app`), or here on first use by an
    app served without one (a test client outside a `with` block)."""
    found: RequestSessions | None = getattr(request.app.state, "request_sessions", None)
    if found is None:
        runtime: Runtime = request.app.state.runtime
        found = request.app.state.request_sessions = runtime.open_request_sessions()
    return found


def route_writes(request: Request) -> bool:
    """Whether the request's route writes: what its endpoint declares (`api.routing.UnitOfWorkRoute.writes`),
    or, for a request that matched no such route, whether its method is unsafe."""
    unit: UnitOfWork | None = request.scope.get(UNIT_OF_WORK)
    return request.method not in READ_METHODS if unit is None else unit.writes


UNIT_OF_WORK = "infomediary.unit_of_work"
"""Where the route keeps the request's `UnitOfWork` in the ASGI scope."""


class UnitOfWork:
    """The request's one session, opened when first asked for (a route that never touches the database
    opens none), and ended once, by the route, when the handler returns or raises."""

    def __init__(self, sessions: RequestSessions, *, writes: bool) -> None:
        self._sessions = sessions
        self.writes = writes
        self._session: RequestSession | None = None

    @property
    def session(self) -> RequestSession:
        if self._session is None:
            self._session = self._sessions.writes() if self.writes else self._sessions.reads()
        return self._session

    @property
    def opened(self) -> RequestSession | None:
        """The session if one was opened, without opening one."""
        return self._session

    async def end(self, error: BaseException | None) -> None:
        """Commit if `error` is None, else roll back, writing a refusal's record (if it has one) alone."""
        if self._session is None:
            return
        if error is None:
            await finish(self._session, commit=True)
        else:
            record = error.record if isinstance(error, DomainError) else None
            await finish(self._session, commit=False, record=record)


async def get_session(request: Request) -> RequestSession:
    """The request's one session and transaction, shared by its dependencies and its endpoint."""
    unit: UnitOfWork | None = request.scope.get(UNIT_OF_WORK)
    if unit is None:
        raise RuntimeError(
            f"{request.url.path}: its route opens no unit of work; build routers with api.routing.api_router"
        )
    return unit.session


async def finish(
    session: RequestSession, *, commit: bool, record: Callable[[Any], object] | None = None
) -> None:
    """Commit or roll back the request's transaction, then close the session. After a rollback, a refusal's
    `record` (see `DomainError.recording`) is written alone, in a transaction of its own."""
    # Shielded: a request cancelled midway (its client went away, a timeout) must still end its transaction.
    # AnyIO's cancellation is level-triggered, so without the shield this await would be cancelled at once,
    # the session would never close, and its locks (the policy log's, a supplier's budget row) would be held
    # until the connection died: the load benchmark froze the server on PostgreSQL that way.
    with CancelScope(shield=True):
        try:
            if commit:
                if isinstance(session, AsyncWriteSession):
                    await session.commit()
                # A read session has nothing to commit: closing it ends its transaction (if it had one).
                return
            await session.rollback()
            if record is not None:
                if not isinstance(session, AsyncWriteSession):
                    raise ReadOnlySessionError(
                        "a recorded refusal on a read session: the route must take WriteSessionDep"
                    )
                await session.run(record)
                await session.commit()
        finally:
            await session.close()


def keep_only_the_record(session: Session, record: Callable[[Any], object] | None) -> None:
    """Roll back what a refused operation did, then write the refusal's record (if it has one) in the same
    session, for its owner to commit: a page that shows its form again instead of raising calls this."""
    session.rollback()
    if record is None:
        return
    if not isinstance(session, WriteSession):
        # A refusal that must be recorded on a route that declared it only reads: the route is wrong.
        raise ReadOnlySessionError(
            "a recorded refusal on a read session: the route must take WriteSessionDep"
        )
    record(session)


async def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


class SessionKind(enum.Enum):
    """What an endpoint's session parameter declares; `api.routing` reads it to type the route."""

    READ = "read"
    WRITE = "write"


RequestSessionDep = Annotated[RequestSession, Depends(get_session)]
"""The request's session, of whichever kind its route chose: for dependencies (authentication) that only read
and follow the endpoint's choice. Its `run` accepts only services that take a plain `Session`."""


async def _write_view(request: Request, session: RequestSessionDep) -> WriteSession:
    if not isinstance(session, AsyncWriteSession):
        raise ReadOnlySessionError(f"{request.url.path}: a read session where the route declared a write")
    return cast(WriteSession, session.sync_session)


async def _read_view(session: RequestSessionDep) -> ReadSession:
    return cast(ReadSession, session.sync_session)


async def _any_view(session: RequestSessionDep) -> Session:
    return session.sync_session


AsyncWriteSessionDep = Annotated[AsyncWriteSession, Depends(get_session, scope="function"), SessionKind.WRITE]
AsyncReadSessionDep = Annotated[AsyncReadSession, Depends(get_session, scope="function"), SessionKind.READ]
# The synchronous view of the request's session, for endpoints written as plain functions (`api.routing`
# runs them inside the session's greenlet, on the event loop). One session behind all of them:
# - WriteSessionDep: the endpoint writes (anything: a log entry, a budget charge, a cache row), whatever
#   its HTTP method. Typed `WriteSession`: only through it can the endpoint call a service that writes.
# - ReadSessionDep: the endpoint only reads; the database refuses any write through it, and mypy any call
#   with it to a service that writes (`infomediary.database.WriteSession`).
# - SessionDep: typed `Session`, so it cannot be handed to a writer either.
WriteSessionDep = Annotated[WriteSession, Depends(_write_view), SessionKind.WRITE]
ReadSessionDep = Annotated[ReadSession, Depends(_read_view), SessionKind.READ]
SessionDep = Annotated[Session, Depends(_any_view)]
ClientAddressDep = Annotated[str, Depends(client_address)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
