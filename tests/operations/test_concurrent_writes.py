"""Concurrent writers: every transaction that reads and then writes succeeds, none fails midway.

On SQLite a deferred transaction that reads, then writes after another writer committed, fails with
SQLITE_BUSY_SNAPSHOT; writing sessions therefore begin IMMEDIATE. On PostgreSQL the same load must pass too.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from infomediary.customers.models import LoginFailure
from infomediary.database import unit_of_work, utcnow
from infomediary.runtime import Runtime

# Real commits on the real engines: this module's tests race connections or read what a commit leaves.
pytestmark = pytest.mark.committing

WORKERS = 8
ROUNDS = 15


def test_read_then_write_transactions_from_many_threads_all_commit(runtime: Runtime) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(WORKERS)

    def worker(number: int) -> None:
        key = number.to_bytes(32, "big")
        try:
            start.wait()
            for _ in range(ROUNDS):
                with unit_of_work(runtime.session_factory) as session:
                    seen = session.scalar(select(func.count()).select_from(LoginFailure))  # read first...
                    session.add(LoginFailure(key=key, failed_at=utcnow() - timedelta(seconds=seen or 0)))
        except BaseException as exc:  # collected: a thread's exception would otherwise vanish
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with runtime.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(LoginFailure)) == WORKERS * ROUNDS
