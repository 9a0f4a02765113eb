"""Engines and session factories for SQLite (embedded default) and PostgreSQL, and the declarative base.

Two engines per process, one for each kind of session:

* the writing engine: transactions that may write. On SQLite they BEGIN IMMEDIATE, so writers queue on the
  database lock up front instead of failing midway.
* the reading engine: connections the database itself keeps from writing (`default_transaction_read_only`
  on PostgreSQL, `PRAGMA query_only` on SQLite). A read session that tries to write fails loudly at once,
  in tests as in production, instead of writing outside the transaction rules every writer relies on: the
  policy log was once corrupted by appends made through autocommit read sessions (issue 15).

Each engine's sessions have a type of their own, `WriteSession` and `ReadSession`, neither a subclass of the
other. A function that writes takes `session: WriteSession`, so handing it a read session is an error mypy
reports; one that only reads takes `session: Session` and accepts either (see docs/request-path.md).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Concatenate, Literal, ParamSpec, TypeVar, cast, overload

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Engine,
    Executable,
    MetaData,
    TypeDecorator,
    any_,
    bindparam,
    create_engine,
    event,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute, Session, sessionmaker

# Stable constraint names so Alembic autogenerate and batch migrations on SQLite agree with PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both backends (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


def utcnow() -> datetime:
    return datetime.now(UTC)


def upsert_insert(session: WriteSession, table: type[Any]) -> postgresql.Insert | sqlite.Insert:
    """An INSERT with `on_conflict_do_*` for the session's backend (both spell upserts the same way)."""
    make = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    return make(table)


def among(session: Session, column: InstrumentedAttribute[Any], values: Sequence[Any]) -> ColumnElement[bool]:
    """`column IN values`, as one array parameter on PostgreSQL (`column = ANY(:values)`).

    An `IN` list renders one placeholder per value, so every list length is a new statement: SQLAlchemy
    expands it on each execution, psycopg converts it afresh (statements over 4 KB or 50 parameters are not
    cached) and PostgreSQL plans it afresh (it can never be prepared). With an array the text is the same for
    any number of values. Expanding and converting them cost about an eighth of a slice's CPU. SQLite has no
    arrays and keeps `IN`; callers still batch for its limit on bound parameters.
    """
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=postgresql.ARRAY(column.type)))
    return column.in_(list(values))


# Connections per engine. The synchronous engines (command line, background work) keep POOL_SIZE and open
# overflow connections beyond it when needed.
POOL_SIZE = 20
POOL_OVERFLOW = 20
# The reading engine's pool: reads never hold a lock, so they need fewer connections than writers queueing.
READ_POOL_SIZE = 10
READ_POOL_OVERFLOW = 10
# The request path's async engines, per serving process. One process is one event loop on one core: more
# connections than this do not answer more requests, they only let more of them start and wait for the CPU
# while holding a transaction. They are also what a deployment multiplies by its worker count against
# PostgreSQL's `max_connections` (100 by default): at 40 + 20 per process, two workers, the command line
# and a load benchmark's bare app exhausted it (`bench.load`: 500s with SQLSTATE 53300). The pools keep
# every connection (no overflow): one returned to a full pool would be closed and opened again soon after,
# its statements prepared again (asyncpg) or its PRAGMAs run (SQLite). A request beyond the pool waits for
# a connection on the event loop, for up to `REQUEST_POOL_TIMEOUT_SECONDS`, then gets a 503.
REQUEST_WRITE_POOL = 16
REQUEST_READ_POOL = 8
REQUEST_POOL_TIMEOUT_SECONDS = 10.0

READ_ONLY = "infomediary_read_only"
"""Execution option set on the reading engine: what `require_writable` checks without a round trip."""

DEFAULT_BUSY_TIMEOUT_SECONDS = 30.0


class ReadOnlySessionError(RuntimeError):
    """A write attempted through a read session: a programming error (the route must take a writing one)."""


class WriteSession(Session):
    """A session on the writing engine, in a transaction that may write: what every writing function takes.

    The type is the guarantee: a function that adds, deletes, flushes, executes an INSERT, UPDATE or DELETE,
    locks rows or calls another that does declares `session: WriteSession`, so mypy rejects a `ReadSession`
    (or a plain `Session`) handed to it. Functions that only read take `Session`, which accepts both.
    """


class ReadSession(Session):
    """A session on the reading engine. It refuses to flush changes; the database refuses any other write.

    Not a `WriteSession`: mypy rejects one passed to a function that writes.
    """


@event.listens_for(ReadSession, "before_flush")
def _refuse_flush(session: Session, _context: Any, _instances: Any) -> None:
    if session.new or session.dirty or session.deleted:
        raise ReadOnlySessionError(
            "a read session cannot write: take the writing session (WriteSessionDep) for this route"
        )


def require_writable(session: WriteSession) -> None:
    """Refuse a session that is not inside a writing transaction (a read session, or one in autocommit).

    Typed `WriteSession`, so mypy already rejects a read session; the check at run time remains for what
    types cannot see: a `WriteSession` bound to an autocommit connection, and callers outside type checking.

    Serialised writers (the policy log's append, budget charges, ledger postings) take a row lock and rely
    on holding it until their transaction commits; in autocommit each statement commits on its own and the
    lock is gone before the next one runs. No I/O: it reads the bind's execution options.
    """
    options = session.get_bind().get_execution_options()
    if (
        isinstance(session, ReadSession)
        or options.get(READ_ONLY)
        or options.get("isolation_level") == "AUTOCOMMIT"
    ):
        raise ReadOnlySessionError(
            "this write needs a writing transaction; it was called with a read or autocommit session"
        )


def create_db_engine(
    url: str, *, read_only: bool = False, busy_timeout: float = DEFAULT_BUSY_TIMEOUT_SECONDS, **kwargs: Any
) -> Engine:
    """An engine for `url`; `read_only` makes the database refuse every write on its connections."""
    pool = (READ_POOL_SIZE, READ_POOL_OVERFLOW) if read_only else (POOL_SIZE, POOL_OVERFLOW)
    options: dict[str, Any] = {"pool_size": pool[0], "max_overflow": pool[1], **kwargs}
    if read_only:
        options["execution_options"] = {READ_ONLY: True, **options.get("execution_options", {})}
    connect_args = options.pop("connect_args", {})
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": busy_timeout, **connect_args}, **options)
        _configure_sqlite(engine, read_only=read_only, busy_timeout=busy_timeout)
        return engine
    if read_only:
        # Every transaction on these connections is READ ONLY unless it says otherwise, which none does.
        connect_args = {**connect_args, "options": "-c default_transaction_read_only=on"}
    options["connect_args"] = connect_args
    # Recycling instead of pre-ping: a ping is one more round trip on every checkout.
    return create_engine(url, pool_recycle=1800, **options)


def _configure_sqlite(engine: Engine, *, read_only: bool, busy_timeout: float) -> None:
    # pysqlite's own transaction handling never emits BEGIN for reads and commits behind our back on DDL;
    # SQLAlchemy's documented recipe takes control so that one session really is one transaction.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in _sqlite_pragmas(read_only=read_only, busy_timeout=busy_timeout):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Writers take the write lock up front (BEGIN IMMEDIATE): a deferred transaction that reads and then
        # writes can fail with SQLITE_BUSY_SNAPSHOT when another writer committed in between.
        mode = connection.get_execution_options().get("sqlite_begin", "")
        statement = f"BEGIN {mode}".strip()
        # Straight to the driver: SQLAlchemy's execution path costs more than the statement on every request.
        try:
            connection.connection.driver_connection.execute(statement)
        except sqlite3.OperationalError as exc:
            # Wrapped as SQLAlchemy wraps driver errors, so callers see one kind (`is_contention`).
            raise OperationalError(statement, None, exc) from exc


# SQLSTATEs that mean "another transaction, or other clients, were in the way; the same request may succeed
# if sent again": serialization_failure, deadlock_detected, lock_not_available, query_canceled (statement or
# lock timeout), too_many_connections, cannot_connect_now (the server starting or shutting down).
_PG_CONTENTION = frozenset({"40001", "40P01", "55P03", "57014", "53300", "57P03"})


def is_contention(exc: BaseException) -> bool:
    """Whether a database error means contention (retry later), not a bug: SQLite's lock not obtained
    within the busy timeout, PostgreSQL's deadlock victim or serialization failure, no connection to be had
    (the server's limit reached, or every connection of the pool in use for `pool_timeout`)."""
    if isinstance(exc, PoolTimeoutError):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    original = exc.orig
    sqlstate = getattr(original, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate in _PG_CONTENTION
    message = str(original).lower()
    return original.__class__.__name__ == "OperationalError" and (
        "database is locked" in message or "database table is locked" in message
    )


@overload
def create_session_factory(engine: Engine, *, writes: Literal[True] = True) -> sessionmaker[WriteSession]: ...


@overload
def create_session_factory(engine: Engine, *, writes: Literal[False]) -> sessionmaker[ReadSession]: ...


def create_session_factory(
    engine: Engine, *, writes: bool = True
) -> sessionmaker[WriteSession] | sessionmaker[ReadSession]:
    """Sessions for transactions that may write (the default, on the writing engine: `WriteSession`s) or
    that only read (`writes=False`, on the reading engine: `ReadSession`s).

    Reads keep a transaction too: PostgreSQL's server-side cursors (streamed exports) need one, and on
    SQLite it is the snapshot that keeps a multi-statement read consistent.
    """
    if writes:
        if engine.get_execution_options().get(READ_ONLY):
            raise ValueError("a writing session factory needs the writing engine")
        bind = engine.execution_options(sqlite_begin="IMMEDIATE")
        return sessionmaker(bind=bind, class_=WriteSession, expire_on_commit=False, autoflush=True)
    if not engine.get_execution_options().get(READ_ONLY):
        raise ValueError(
            "a reading session factory needs the reading engine: create_db_engine(read_only=True)"
        )
    return sessionmaker(bind=engine, class_=ReadSession, expire_on_commit=False, autoflush=True)


class PreparedRead:
    """A read statement of a hot path (the bearer check, the supplier's dashboard), built once and run on the
    session's own connection.

    On asyncpg it goes straight to the driver: compiled once for the dialect, prepared once per connection by
    asyncpg's statement cache, its row returned as asyncpg decodes it. SQLAlchemy's execution and result
    layers, which cost more than the statement itself on these paths (bench/http.py: SQLAlchemy async Core
    takes 1.8 times the CPU of raw asyncpg for the same two lookups), are skipped. Elsewhere (SQLite, psycopg)
    it runs through the session as usual. Either way the answer is a plain tuple, or None.

    Only for reads whose columns need no result processing beyond the driver's (text, numbers, timestamps
    with time zone): rows skip the column types' result processors. On a writing session whose transaction
    has not sent its first statement yet, asyncpg runs it outside that transaction, in its own snapshot:
    under READ COMMITTED, what the transaction's first statement would have seen too.
    """

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._asyncpg: tuple[str, tuple[str, ...], dict[str, Any], dict[str, Any]] | None = None

    def first(self, session: Session, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        connection = session.connection()
        if connection.dialect.driver != "asyncpg":
            row = session.execute(self.statement, params).first()
            return None if row is None else tuple(row)
        sql, names, defaults, processors = self._compiled(connection.dialect)
        arguments = []
        for name in names:
            value = params[name] if name in params else defaults[name]
            process = processors.get(name)
            arguments.append(process(value) if process is not None and value is not None else value)
        adapted: Any = connection.connection.dbapi_connection
        record = adapted.run_async(lambda raw: raw.fetchrow(sql, *arguments))
        return None if record is None else tuple(record)

    def _compiled(self, dialect: Any) -> tuple[str, tuple[str, ...], dict[str, Any], dict[str, Any]]:
        if self._asyncpg is None:
            compiled = cast(Any, self.statement).compile(dialect=dialect)
            names = tuple(compiled.positiontup)
            processors = {}
            for name in names:
                process = compiled.binds[name].type.bind_processor(dialect)
                if process is not None:
                    processors[name] = process
            self._asyncpg = (str(compiled), names, dict(compiled.params), processors)
        return self._asyncpg


AnySession = TypeVar("AnySession", bound=Session)


@contextmanager
def unit_of_work(factory: sessionmaker[AnySession]) -> Iterator[AnySession]:
    """One transaction for the command line and background work: commit on success, roll back on error.

    The session is of the factory's kind: a `WriteSession` from a writing factory, a `ReadSession` from a
    reading one.
    """
    with factory() as session, session.begin():
        yield session


# The request path: async sessions on asyncpg (PostgreSQL) and aiosqlite (SQLite), see docs/request-path.md.

P = ParamSpec("P")
R = TypeVar("R")


class RequestSession(AsyncSession):
    """A request's one session, in its one transaction, on the event loop: `AsyncWriteSession` or
    `AsyncReadSession`. A dependency that only reads (authentication) takes this type.

    Services are plain functions of a synchronous `Session`, shared with the command line and the tests;
    `run` calls one inside the session's greenlet (SQLAlchemy's `run_sync`), where each statement it
    executes is awaited on the async driver. So a request's work stays on the event loop, in one
    execution context: no worker thread holds its transaction.
    """

    async def run(
        self, service: Callable[Concatenate[Session, P], R], *args: P.args, **kwargs: P.kwargs
    ) -> R:
        """`service(session, *args, **kwargs)` on this session's synchronous view, inside its greenlet."""
        return await self.run_sync(service, *args, **kwargs)


class AsyncWriteSession(RequestSession):
    """A request's writing transaction: its synchronous view is a `WriteSession`, so only through this type
    can a route call a service that writes (mypy rejects an `AsyncReadSession` handed to `run` with one)."""

    sync_session_class = WriteSession

    async def run(
        self, service: Callable[Concatenate[WriteSession, P], R], *args: P.args, **kwargs: P.kwargs
    ) -> R:
        # run_sync types its callable as taking a plain Session; this one takes our subclass, as it gets.
        return await self.run_sync(service, *args, **kwargs)  # type: ignore[arg-type]


class AsyncReadSession(RequestSession):
    """A request's read session: its synchronous view is a `ReadSession`, on connections the database keeps
    from writing."""

    sync_session_class = ReadSession

    async def run(
        self, service: Callable[Concatenate[ReadSession, P], R], *args: P.args, **kwargs: P.kwargs
    ) -> R:
        # run_sync types its callable as taking a plain Session; this one takes our subclass, as it gets.
        return await self.run_sync(service, *args, **kwargs)  # type: ignore[arg-type]


def async_driver_url(url: str) -> str:
    """The URL with the async driver of its backend: asyncpg for PostgreSQL, aiosqlite for SQLite."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise ValueError(f"no async driver for {backend!r} URLs")


def create_async_db_engine(
    url: str, *, read_only: bool = False, busy_timeout: float = DEFAULT_BUSY_TIMEOUT_SECONDS
) -> AsyncEngine:
    """The async twin of `create_db_engine`, for request sessions: same guarantees, a pool sized for one
    event loop (`REQUEST_WRITE_POOL`)."""
    pool = REQUEST_READ_POOL if read_only else REQUEST_WRITE_POOL
    options: dict[str, Any] = {
        "pool_size": pool,
        "max_overflow": 0,
        "pool_timeout": REQUEST_POOL_TIMEOUT_SECONDS,
    }
    if read_only:
        options["execution_options"] = {READ_ONLY: True}
    target = make_url(async_driver_url(url))
    if target.get_backend_name() == "sqlite":
        engine = create_async_engine(target, connect_args={"timeout": busy_timeout}, **options)
        _configure_async_sqlite(engine, read_only=read_only, busy_timeout=busy_timeout)
        return engine
    server_settings = _server_settings(target.query.get("options"))
    target = target.difference_update_query(["options"])
    if read_only:
        server_settings["default_transaction_read_only"] = "on"
        # Reads in autocommit on PostgreSQL: BEGIN and COMMIT are round trips of their own (asyncpg sends
        # each as a query), half of a simple read's, and under READ COMMITTED every statement takes its own
        # snapshot inside a transaction or not. Safe only because these connections cannot write. Set on
        # the engine, not per checkout: switching it on every checkout and back on return costs CPU.
        options["isolation_level"] = "AUTOCOMMIT"
    return create_async_engine(
        target, pool_recycle=1800, connect_args={"server_settings": server_settings}, **options
    )


def _server_settings(options: str | tuple[str, ...] | None) -> dict[str, str]:
    """libpq's `options=-c name=value ...` (a psycopg URL's) as asyncpg's `server_settings`."""
    found: dict[str, str] = {}
    texts = (options,) if isinstance(options, str) else options or ()
    for text in texts:
        words = text.replace("-c ", "-c").split()
        for word in words:
            name, _, value = word.removeprefix("-c").partition("=")
            if name and value:
                found[name] = value
    return found


def _configure_async_sqlite(engine: AsyncEngine, *, read_only: bool, busy_timeout: float) -> None:
    # The same recipe as `_configure_sqlite`, through aiosqlite's adapted connection (SQLAlchemy's
    # documented one for it): the adapter runs each call on the connection's own thread.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in _sqlite_pragmas(read_only=read_only, busy_timeout=busy_timeout):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "")
        connection.exec_driver_sql(f"BEGIN {mode}".strip())


def _sqlite_pragmas(*, read_only: bool, busy_timeout: float) -> list[str]:
    pragmas = [
        "PRAGMA journal_mode=WAL",
        "PRAGMA foreign_keys=ON",
        f"PRAGMA busy_timeout={round(busy_timeout * 1000)}",
        "PRAGMA synchronous=NORMAL",
    ]
    return [*pragmas, "PRAGMA query_only=ON"] if read_only else pragmas


@dataclass(frozen=True)
class RequestSessions:
    """The session factories of the request path, and the engines behind them (closed with the app).

    `writes` opens `AsyncWriteSession`s on the writing engine (BEGIN IMMEDIATE on SQLite); `reads` opens
    `AsyncReadSession`s on the reading engine, whose connections refuse writes. `snapshot_reads`, when set,
    opens read sessions whose one transaction reads one snapshot of the database (see `snapshots`).
    """

    writes: async_sessionmaker[AsyncWriteSession]
    reads: async_sessionmaker[AsyncReadSession]
    engines: tuple[AsyncEngine, ...] = ()
    snapshot_reads: async_sessionmaker[AsyncReadSession] | None = None

    @property
    def snapshots(self) -> async_sessionmaker[AsyncReadSession]:
        """Read sessions for work that reads many statements and must see one state of the database (the
        export): on PostgreSQL a REPEATABLE READ, READ ONLY transaction instead of the reading engine's
        autocommit, where each statement sees what was committed before it; on SQLite `reads` as they are,
        since one deferred transaction in WAL mode already reads the snapshot its first SELECT took. Without
        `snapshot_reads` (the tests' sessions sharing one connection), `reads`."""
        return self.snapshot_reads or self.reads

    @classmethod
    def open(cls, url: str, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT_SECONDS) -> RequestSessions:
        writer = create_async_db_engine(url, busy_timeout=busy_timeout)
        reader = create_async_db_engine(url, read_only=True, busy_timeout=busy_timeout)
        snapshot = reader
        if reader.dialect.name == "postgresql":
            # Per checkout, and reset when the connection goes back to the pool: the other reads keep
            # autocommit. READ ONLY is what the connection's default already says; stated, it cannot drift.
            snapshot = reader.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        return cls(
            writes=async_sessionmaker(
                writer.execution_options(sqlite_begin="IMMEDIATE"),
                class_=AsyncWriteSession,
                expire_on_commit=False,
                autoflush=True,
            ),
            reads=async_sessionmaker(reader, class_=AsyncReadSession, expire_on_commit=False, autoflush=True),
            engines=(writer, reader),
            snapshot_reads=async_sessionmaker(
                snapshot, class_=AsyncReadSession, expire_on_commit=False, autoflush=True
            ),
        )

    async def close(self) -> None:
        for engine in self.engines:
            await engine.dispose()
