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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar, overload

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Engine,
    MetaData,
    TypeDecorator,
    any_,
    bindparam,
    create_engine,
    event,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, OperationalError
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


# Requests holding a session at once are at most POOL_SIZE (api/deps.Admission); the overflow serves the
# sessions some requests open of their own (a tree head, a GPC signal). A pool smaller than the worker
# threads would make connections open and close under load (a new SQLite connection runs its PRAGMAs again).
POOL_SIZE = 20
POOL_OVERFLOW = 20
# The reading engine's pool: reads never hold a lock, so they need fewer connections than writers queueing.
READ_POOL_SIZE = 10
READ_POOL_OVERFLOW = 10

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
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={round(busy_timeout * 1000)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if read_only:
            cursor.execute("PRAGMA query_only=ON")
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


# SQLSTATEs that mean "another transaction was in the way; the same request may succeed if sent again":
# serialization_failure, deadlock_detected, lock_not_available, query_canceled (statement or lock timeout).
_PG_CONTENTION = frozenset({"40001", "40P01", "55P03", "57014"})


def is_contention(exc: BaseException) -> bool:
    """Whether a database error means contention (retry later), not a bug: SQLite's lock not obtained
    within the busy timeout, PostgreSQL's deadlock victim or serialization failure."""
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
def create_session_factory(
    engine: Engine, *, writes: Literal[True] = True, statement_reads: bool = False
) -> sessionmaker[WriteSession]: ...


@overload
def create_session_factory(
    engine: Engine, *, writes: Literal[False], statement_reads: bool = False
) -> sessionmaker[ReadSession]: ...


def create_session_factory(
    engine: Engine, *, writes: bool = True, statement_reads: bool = False
) -> sessionmaker[WriteSession] | sessionmaker[ReadSession]:
    """Sessions for transactions that may write (the default, on the writing engine: `WriteSession`s) or
    that only read (`writes=False`, on the reading engine: `ReadSession`s).

    Reads keep a transaction too: PostgreSQL's server-side cursors (streamed exports) need one, and on
    SQLite it is the snapshot that keeps a multi-statement read consistent. Except `statement_reads` on
    PostgreSQL (a request's reads, which never stream): autocommit, since psycopg sends BEGIN and COMMIT as
    round trips of their own, a third of a simple read's, while under READ COMMITTED each statement takes
    its own snapshot either way. Autocommit is safe there only because the connection cannot write.
    """
    bind: Engine
    if writes:
        if engine.get_execution_options().get(READ_ONLY):
            raise ValueError("a writing session factory needs the writing engine")
        bind = engine.execution_options(sqlite_begin="IMMEDIATE")
        return sessionmaker(bind=bind, class_=WriteSession, expire_on_commit=False, autoflush=True)
    if not engine.get_execution_options().get(READ_ONLY):
        raise ValueError(
            "a reading session factory needs the reading engine: create_db_engine(read_only=True)"
        )
    bind = engine
    if statement_reads and engine.dialect.name == "postgresql":
        bind = engine.execution_options(isolation_level="AUTOCOMMIT")
    return sessionmaker(bind=bind, class_=ReadSession, expire_on_commit=False, autoflush=True)


AnySession = TypeVar("AnySession", bound=Session)


@contextmanager
def unit_of_work(factory: sessionmaker[AnySession]) -> Iterator[AnySession]:
    """One transaction for the command line and background work: commit on success, roll back on error.

    The session is of the factory's kind: a `WriteSession` from a writing factory, a `ReadSession` from a
    reading one.
    """
    with factory() as session, session.begin():
        yield session
