"""A writer that cannot get the embedded database's lock in time gets a 503 with Retry-After, never a 500,
and its request changes nothing.

SQLite has one write lock per database. Another process (a second worker, the command line, a backup) may
hold it longer than a writer waits (`database_busy_timeout_seconds`); the request then rolls back whole, and
the client is told to send it again. Runs on its own SQLite file whatever database the suite uses.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from infomediary import schema
from infomediary.runtime import Runtime
from tests.conftest import ISSUER, make_settings
from tests.fixtures.actors import make_consumer

# Real commits on the real engines: this module's tests race connections or read what a commit leaves.
pytestmark = pytest.mark.committing


@pytest.fixture
def sqlite_runtime(tmp_path: Path) -> Iterator[Runtime]:
    settings = make_settings(
        tmp_path, f"sqlite:///{tmp_path / 'contended.db'}", database_busy_timeout_seconds=0.2
    )
    runtime = Runtime.create(settings)
    runtime.keys.ensure()
    schema.upgrade(runtime.engine)
    yield runtime
    runtime.close()


def test_a_writer_kept_from_the_lock_gets_503_and_changes_nothing(sqlite_runtime: Runtime) -> None:
    database = sqlite_runtime.settings.resolved_database_url.removeprefix("sqlite:///")
    with TestClient(create_app(runtime=sqlite_runtime), base_url=ISSUER) as http:
        consumer = make_consumer(http)
        before = http.get("/v1/me/profile", headers=consumer.headers)
        assert before.status_code == 200

        other_process = sqlite3.connect(database, isolation_level=None)
        other_process.execute("BEGIN IMMEDIATE")  # holds the write lock, as another writer would
        try:
            refused = http.patch("/v1/me/profile", json={"occupation": "engineer"}, headers=consumer.headers)
            # Reads do not need the write lock: the service still answers them.
            read = http.get("/v1/me/profile", headers=consumer.headers)
        finally:
            other_process.rollback()
            other_process.close()

        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.json()["status"] == 503
        assert read.status_code == 200
        assert http.get("/v1/me/profile", headers=consumer.headers).json() == before.json()

        # Once the lock is free, the same request goes through.
        again = http.patch("/v1/me/profile", json={"occupation": "engineer"}, headers=consumer.headers)
        assert again.status_code == 200
        assert again.json() != before.json()
