"""Engine and session factory for SQLite (embedded default) and PostgreSQL, and the declarative base."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

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


def upsert_insert(session: Session, table: type[Any]) -> postgresql.Insert | sqlite.Insert:
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


def create_db_engine(url: str, **kwargs: Any) -> Engine:
    options: dict[str, Any] = {"pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW, **kwargs}
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **options)
        _configure_sqlite(engine)
        return engine
    # Recycling instead of pre-ping: a ping is one more round trip on every checkout.
    return create_engine(url, pool_recycle=1800, **options)


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling never emits BEGIN for reads and commits behind our back on DDL;
    # SQLAlchemy's documented recipe takes control so that one session really is one transaction.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Writers take the write lock up front (BEGIN IMMEDIATE): a deferred transaction that reads and then
        # writes can fail with SQLITE_BUSY_SNAPSHOT when another writer committed in between.
        mode = connection.get_execution_options().get("sqlite_begin", "")
        # Straight to the driver: SQLAlchemy's execution path costs more than the statement on every request.
        connection.connection.driver_connection.execute(f"BEGIN {mode}".strip())


def create_session_factory(
    engine: Engine, *, writes: bool = True, statement_reads: bool = False
) -> sessionmaker[Session]:
    """Sessions for transactions that may write (the default) or that only read.

    On SQLite a writing transaction begins IMMEDIATE, so writers queue on the lock instead of failing midway.

    Reads keep a transaction too: PostgreSQL's server-side cursors (streamed exports) need one, and on
    SQLite it is the snapshot that keeps a multi-statement read consistent. Except `statement_reads` on
    PostgreSQL (a request's reads, which never stream): autocommit, since psycopg sends BEGIN and COMMIT as
    round trips of their own, a third of a simple read's, while under READ COMMITTED each statement takes
    its own snapshot either way.
    """
    bind: Engine
    if writes:
        bind = engine.execution_options(sqlite_begin="IMMEDIATE")
    elif statement_reads and engine.dialect.name == "postgresql":
        bind = engine.execution_options(isolation_level="AUTOCOMMIT")
    else:
        bind = engine
    return sessionmaker(bind=bind, expire_on_commit=False, autoflush=True)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction for the command line and background work: commit on success, roll back on error."""
    with factory() as session, session.begin():
        yield session
