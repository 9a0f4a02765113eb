"""Request-scoped dependencies shared by every router: the runtime and the transaction-owning session.

A request has one session, of the kind its route declares (`WriteSessionDep` or `ReadSessionDep`, see
`api.routing`): a writing transaction for any route that records anything, whatever its HTTP method, and a
read session, which the database keeps from writing, for the rest.

A request's transaction spans several thread-pool hops (authentication, handler, commit), with the
event loop in between. These rules keep a transaction that holds a lock from waiting for a thread that a
waiter on that lock occupies (the load benchmark found each deadlock they prevent):

- On SQLite, which has one write lock per database, a process admits one writing request at a time
  (`WriteGate`); the others wait on the event loop, holding no thread. (Without it every worker thread
  blocked on the write lock while its holder waited for a thread to commit in.)
- A blocking endpoint commits on the thread it ran on, as soon as it returns (`api.routing`), so its locks
  are not held across further hops. Any other commit, and every rollback, runs on threads of their own
  (`_finishers`), never queued behind handlers, so a transaction holding PostgreSQL row locks can always
  end; and shielded from cancellation (`finish`), so a request whose client went away still ends its
  transaction.
- Fewer requests hold a session at once than there are worker threads (`Admission`); the rest wait on the
  event loop. A transaction's request needs a thread for each of its hops (authentication, then the
  endpoint): were every thread held by requests waiting on a lock, the lock's holder could never take its
  next hop. The load benchmark froze on PostgreSQL that way, every worker waiting on a supplier's budget
  row or the policy log while their holder waited for a thread. It also keeps worker threads from
  blocking on an exhausted connection pool (admitted requests are fewer than the pool's connections).
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any, Generic, TypeVar, cast

from anyio import CancelScope, CapacityLimiter, to_thread
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from infomediary.database import POOL_SIZE, ReadOnlySessionError, ReadSession, WriteSession
from infomediary.errors import DomainError
from infomediary.runtime import Runtime

T = TypeVar("T")


async def get_runtime(request: Request) -> Runtime:
    # async on purpose: FastAPI runs a plain `def` dependency in the thread pool, a hop for nothing here.
    runtime: Runtime = request.app.state.runtime
    return runtime


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class _PerLoop(Generic[T]):
    """One asyncio or AnyIO primitive per event loop (a test client runs one loop per `with` block)."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._loop: asyncio.AbstractEventLoop | None = None
        self._value: T | None = None

    def get(self) -> T:
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._value is None:
            self._loop, self._value = loop, self._make()
        return self._value


class WriteGate:
    """On SQLite, one writing transaction per process at a time, queued on the event loop (see the module)."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self._lock = _PerLoop(asyncio.Lock)

    @asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        if not self.enabled:
            yield
            return
        async with self._lock.get():
            yield


class Admission:
    """Requests holding a database session at once: fewer than the worker threads (see the module docstring).

    A request that is already admitted and opens another session (a service that signs a tree head in a
    transaction of its own) is not counted twice: that could leave every admitted request waiting for a
    second place.
    """

    def __init__(self, capacity: int) -> None:
        self._places = _PerLoop(lambda: asyncio.Semaphore(capacity))

    @asynccontextmanager
    async def hold(self, request: Request) -> AsyncIterator[None]:
        if getattr(request.state, "admitted", False):
            yield
            return
        async with self._places.get():
            request.state.admitted = True
            try:
                yield
            finally:
                request.state.admitted = False


def admission(request: Request) -> Admission:
    found: Admission | None = getattr(request.app.state, "admission", None)
    if found is None:
        runtime: Runtime = request.app.state.runtime
        # One thread always left for a hop of an admitted request; never more places than pooled connections.
        places = max(1, min(runtime.settings.worker_threads - 1, POOL_SIZE))
        found = request.app.state.admission = Admission(places)
    return found


# Threads for commit and rollback only; more than the connection pool could ever need at once.
FINISHER_THREADS = 64
_finishers = _PerLoop(lambda: CapacityLimiter(FINISHER_THREADS))


def write_gate(request: Request) -> WriteGate:
    gate: WriteGate | None = getattr(request.app.state, "write_gate", None)
    if gate is None:
        runtime: Runtime = request.app.state.runtime
        gate = request.app.state.write_gate = WriteGate(enabled=runtime.settings.is_sqlite)
    return gate


def route_writes(request: Request) -> bool:
    """Whether the request's route writes: what its endpoint declares (`api.routing.CommittingRoute.writes`),
    or, for a request that matched no such route, whether its method is unsafe."""
    route = request.scope.get("route")
    writes = getattr(route, "writes", None)
    return request.method not in READ_METHODS if writes is None else bool(writes)


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's one session, shared by its dependencies (authentication) and its endpoint.

    A writing session (one transaction, committed when the handler returns, rolled back if it raises) for
    a route that writes, whatever its HTTP method; a read session, which the database keeps from writing,
    for one that only reads. Creating a session does no I/O, so it happens on the event loop; the commit or
    rollback (which does) runs on a finisher thread, one hop instead of one in and one out.
    """
    async with _transaction(request, reads=not route_writes(request)) as session:
        yield session


def writing_session(request: Request, session: Session) -> WriteSession | None:
    """The request's session as the `WriteSession` it is on a route that writes; None on a route that reads.

    For dependencies shared by both kinds of route (they take `SessionDep`, typed `Session`) that write
    when they can, such as the GPC signal's. The one cast of a session in the code base: `_transaction`
    opens the session from `runtime.session_factory` (a `sessionmaker[WriteSession]`) exactly when
    `route_writes(request)`, a choice made at run time from the route, which mypy cannot follow. Not an
    `isinstance` test, so that it answers by the same rule that chose the session.
    """
    if not route_writes(request):
        return None
    return cast(WriteSession, session)


@asynccontextmanager
async def _transaction(request: Request, *, reads: bool) -> AsyncIterator[Session]:
    # A context manager, not a generator looped over: an exception thrown into the dependency at its yield
    # must reach the except clauses below (a refusal's record, a rollback), and it does through `async
    # with`; through `async for` the inner generator would only be finalised later, its transaction open.
    runtime: Runtime = request.app.state.runtime
    factory = runtime.request_read_session_factory if reads else runtime.session_factory
    async with admission(request).hold(request), write_gate(request).hold() if not reads else _no_gate():
        session = factory()
        try:
            yield session
        except DomainError as exc:
            await finish(session, commit=False, record=exc.record)
            raise
        except BaseException:
            await finish(session, commit=False)
            raise
        await finish(session, commit=True)


@asynccontextmanager
async def _no_gate() -> AsyncIterator[None]:
    yield


async def finish(session: Session, *, commit: bool, record: Callable[[Any], object] | None = None) -> None:
    """Commit or roll back the request's transaction, then close the session. After a rollback, a refusal's
    `record` (see `DomainError.recording`) is written alone, in a transaction of its own."""
    # Shielded: a request cancelled midway (its client went away, a timeout) must still end its transaction.
    # AnyIO's cancellation is level-triggered, so without the shield this await would be cancelled at once,
    # the session would never close, and its locks (the policy log's, a supplier's budget row) would be held
    # until the connection died: the load benchmark froze the server on PostgreSQL that way.
    if not session.in_transaction() and record is None:
        # Committed on the endpoint's own thread (`api.routing`), or never begun: no I/O left, no hop.
        session.close()
        return
    with CancelScope(shield=True):
        await to_thread.run_sync(_finish, session, commit, record, limiter=_finishers.get())


def _finish(session: Session, commit: bool, record: Callable[[Any], object] | None) -> None:
    try:
        if commit:
            session.commit()
        else:
            keep_only_the_record(session, record)
            if record is not None:
                session.commit()
    finally:
        session.close()


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


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
# One dependency (`get_session`) behind all three, so a request's dependencies and endpoint share one
# session. scope="function": the commit happens before the response is sent, so a client never sees success
# for a write that then fails to commit.
# - WriteSessionDep: the endpoint writes (anything: a log entry, a budget charge, a cache row), whatever
#   its HTTP method. Typed `WriteSession`: only through it can the endpoint call a service that writes.
# - ReadSessionDep: the endpoint only reads; the database refuses any write through it, and mypy any call
#   with it to a service that writes (`infomediary.database.WriteSession`).
# - SessionDep: for dependencies (authentication) that only read and follow the endpoint's choice; typed
#   `Session`, so it cannot be handed to a writer either.
WriteSessionDep = Annotated[WriteSession, Depends(get_session, scope="function"), SessionKind.WRITE]
ReadSessionDep = Annotated[ReadSession, Depends(get_session, scope="function"), SessionKind.READ]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
ClientAddressDep = Annotated[str, Depends(client_address)]
