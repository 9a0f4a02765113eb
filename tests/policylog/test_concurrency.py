"""Concurrent appenders serialise on the state row: one tree, no fork, every stored node right.

Runs against whatever database the suite uses; the PostgreSQL variant makes a fresh database of its own so
it runs (or, outside CI, skips visibly) even when the suite is on SQLite.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select

from infomediary import schema
from infomediary.database import create_db_engine, create_session_factory, unit_of_work
from infomediary.policylog.merkle import ReferenceTree, getter_from_mapping, root_hash, root_hash_nodes
from infomediary.policylog.models import PolicyLogEntry, PolicyLogNode
from infomediary.policylog.nodes import fetch_nodes
from infomediary.policylog.service import append, append_many, tree_size
from tests.fixtures.databases import DEFAULT_POSTGRES_URL, fresh_postgres_database
from tests.fixtures.policylog import decision

# Real commits on the real engines: this module's tests race connections or read what a commit leaves.
pytestmark = pytest.mark.committing

WORKERS = 8
PER_WORKER = 25


@pytest.fixture
def postgres_engine() -> Iterator[Engine]:
    admin = os.environ.get("INFOMEDIARY_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    with fresh_postgres_database(admin) as url:
        engine = create_db_engine(url)
        schema.upgrade(engine)
        yield engine
        engine.dispose()


def _hammer(engine: Engine) -> None:
    factory = create_session_factory(engine)
    errors: list[BaseException] = []
    barrier = threading.Barrier(WORKERS)

    def work(worker: int) -> None:
        try:
            barrier.wait()
            for i in range(PER_WORKER):
                with unit_of_work(factory) as session:
                    if i % 5 == 0:
                        append_many(session, [decision(worker * 1000 + i), decision(worker * 1000 + i + 500)])
                    else:
                        append(session, decision(worker * 1000 + i))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []

    expected_size = WORKERS * (PER_WORKER + PER_WORKER // 5)
    with factory() as session:
        assert tree_size(session) == expected_size
        rows = session.execute(
            select(PolicyLogEntry.leaf_index, PolicyLogEntry.entry).order_by(PolicyLogEntry.leaf_index)
        )
        entries = [(i, bytes(e)) for i, e in rows]
        assert [i for i, _ in entries] == list(range(expected_size))
        ref = ReferenceTree()
        for _, data in entries:
            ref.append_entry(data)
        stored = {
            (lv, ix): bytes(h)
            for lv, ix, h in session.execute(
                select(PolicyLogNode.level, PolicyLogNode.node_index, PolicyLogNode.hash)
            )
        }
        for (level, index), value in stored.items():
            width = 1 << level
            assert value == ReferenceTree(ref.leaves[index * width : (index + 1) * width]).root(), (
                level,
                index,
            )
        assert len(stored) == sum(expected_size >> level for level in range(expected_size.bit_length()))
        nodes = fetch_nodes(session, root_hash_nodes(expected_size))
        assert root_hash(expected_size, getter_from_mapping(nodes)) == ref.root()


def test_concurrent_appends_on_postgres_make_one_tree(postgres_engine: Engine) -> None:
    _hammer(postgres_engine)


def test_concurrent_appends_on_sqlite_make_one_tree(tmp_path: object) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path}/concurrent.db")
    schema.upgrade(engine)
    try:
        _hammer(engine)
    finally:
        engine.dispose()
