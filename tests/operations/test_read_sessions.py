"""Read sessions cannot write, and the writers that serialise on a lock refuse anything but a writing one.

Issue 15: GET routes appended to the policy log through autocommit read sessions. The reservation of leaf
indexes committed at once and released the log's lock, concurrent appenders read nodes not yet written, and
the log was left with gaps. Now a read session fails loudly on any write (the session refuses to flush, the
database refuses the statement), and the log's append, budget charges and ledger postings check that they
run inside a writing transaction before they take their lock.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import anyio
import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from api.deps import ReadSessionDep, SessionKind, WriteSessionDep
from api.routing import declared_session
from infomediary.audiences import budget
from infomediary.audiences.models import EpsilonLedgerRow
from infomediary.database import ReadOnlySessionError, ReadSession, require_writable, unit_of_work
from infomediary.ledger import service as ledger
from infomediary.ledger.models import LedgerAccount
from infomediary.policylog.models import PolicyLogState
from infomediary.policylog.service import append_many, tree_size
from infomediary.runtime import Runtime
from tests.fixtures.actors import make_supplier
from tests.fixtures.policylog import decision, fill_log

# Real commits on the real engines: this module's tests race connections or read what a commit leaves.
pytestmark = pytest.mark.committing


@pytest.fixture
def read_session(runtime: Runtime) -> Iterator[Session]:
    with runtime.read_session_factory() as session:
        yield session


def test_a_read_session_is_its_own_type(read_session: Session) -> None:
    assert isinstance(read_session, ReadSession)


def test_a_read_session_refuses_to_flush_a_change(runtime: Runtime, read_session: Session) -> None:
    read_session.add(PolicyLogState(id=99, size=7))
    with pytest.raises(ReadOnlySessionError, match="read session cannot write"):
        read_session.flush()
    read_session.rollback()
    with runtime.read_session_factory() as check:
        assert check.get(PolicyLogState, 99) is None


def test_the_database_refuses_a_statement_that_writes(runtime: Runtime, read_session: Session) -> None:
    """Past the ORM (a Core UPDATE never flushes), the database itself says no: SQLite's `query_only`,
    PostgreSQL's `default_transaction_read_only`."""
    fill_log(runtime, 3)
    with pytest.raises(DBAPIError, match=r"(?i)read.?only"):
        read_session.execute(update(PolicyLogState).values(size=PolicyLogState.size + 5))
    read_session.rollback()
    with runtime.read_session_factory() as check:
        assert tree_size(check) == 3


def test_the_log_refuses_an_append_through_a_read_session(runtime: Runtime, read_session: Session) -> None:
    fill_log(runtime, 2)
    with pytest.raises(ReadOnlySessionError):
        append_many(read_session, [decision(9)])
    read_session.rollback()
    with runtime.read_session_factory() as check:
        assert tree_size(check) == 2


def test_serialised_writers_refuse_an_autocommit_session(runtime: Runtime) -> None:
    """Autocommit is what corrupted the log: each statement commits and drops its lock at once."""
    autocommit = sessionmaker(bind=runtime.engine.execution_options(isolation_level="AUTOCOMMIT"))
    now = datetime.now(UTC)
    with autocommit() as session:
        with pytest.raises(ReadOnlySessionError):
            append_many(session, [decision(0)])
        with pytest.raises(ReadOnlySessionError):
            budget.open_ledger(session, "sup_any", now, runtime.settings)
        with pytest.raises(ReadOnlySessionError):
            ledger.top_up(session, supplier_id="sup_any", amount=5, idempotency_key="k")
    with runtime.read_session_factory() as check:
        assert tree_size(check) == 0
        assert check.scalars(select(LedgerAccount)).all() == []


def test_a_writing_session_is_writable(runtime: Runtime) -> None:
    with unit_of_work(runtime.session_factory) as session:
        require_writable(session)


def test_a_route_declares_one_kind_of_session() -> None:
    def reads(session: ReadSessionDep) -> None: ...

    def writes(session: WriteSessionDep) -> None: ...

    def neither(n: int) -> None: ...

    def both(a: ReadSessionDep, b: WriteSessionDep) -> None: ...

    assert declared_session(reads) is SessionKind.READ
    assert declared_session(writes) is SessionKind.WRITE
    assert declared_session(neither) is None
    with pytest.raises(TypeError, match="both a read and a write session"):
        declared_session(both)


def test_a_budget_charge_is_an_increment_made_by_the_database(runtime: Runtime) -> None:
    """Even a row object holding a stale total cannot write it back: the database adds the cost."""
    settings = runtime.settings
    now = datetime.now(UTC)
    supplier_id = make_supplier(runtime).owner_id
    with unit_of_work(runtime.session_factory) as session:
        opened = budget.open_ledger(session, supplier_id, now, settings)
        budget.charge(session, opened, 100, now)
        assert opened.row.spent_milli == 100
        set_committed_value(opened.row, "spent_milli", 0)  # as if read before the first charge
        budget.charge(session, opened, 50, now)
        assert opened.row.spent_milli == 150
    with runtime.read_session_factory() as check:
        row = check.get(EpsilonLedgerRow, (supplier_id, opened.period.start))
        assert row is not None and row.spent_milli == 150


def test_a_ledger_posting_moves_the_balance_in_the_database(runtime: Runtime) -> None:
    with unit_of_work(runtime.session_factory) as session:
        ledger.top_up(session, supplier_id="sup_bal", amount=30, idempotency_key="a")
        account = session.scalars(select(LedgerAccount).where(LedgerAccount.owner_id == "sup_bal")).one()
        set_committed_value(account, "balance", 0)  # a stale copy must not be what is written
        ledger.top_up(session, supplier_id="sup_bal", amount=12, idempotency_key="b")
    with runtime.read_session_factory() as check:
        balance = check.scalar(select(LedgerAccount.balance).where(LedgerAccount.owner_id == "sup_bal"))
    assert balance == 42


def test_read_engines_are_separate_from_the_writing_one(runtime: Runtime) -> None:
    assert runtime.read_engine is not runtime.engine
    assert runtime.read_engine.url == runtime.engine.url
    with runtime.read_session_factory() as session, pytest.raises(ReadOnlySessionError):
        require_writable(session)


def test_a_request_read_session_cannot_write_on_the_async_driver(runtime: Runtime) -> None:
    """The request path's read sessions (asyncpg, aiosqlite): the same refusals, through `session.run`."""
    fill_log(runtime, 3)

    async def attempt() -> None:
        sessions = runtime.open_request_sessions()
        try:
            async with sessions.reads() as session:
                assert isinstance(session.sync_session, ReadSession)
                with pytest.raises(DBAPIError, match=r"(?i)read.?only"):
                    await session.run(
                        lambda s: s.execute(update(PolicyLogState).values(size=PolicyLogState.size + 5))
                    )
                await session.rollback()
                with pytest.raises(ReadOnlySessionError):
                    await session.run(append_many, [decision(9)])
                await session.rollback()
                session.add(PolicyLogState(id=99, size=7))
                with pytest.raises(ReadOnlySessionError, match="read session cannot write"):
                    await session.flush()
        finally:
            await sessions.close()

    anyio.run(attempt)
    with runtime.read_session_factory() as check:
        assert tree_size(check) == 3
        assert check.get(PolicyLogState, 99) is None
