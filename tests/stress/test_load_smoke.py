"""The load benchmark in a bounded form: a short mixed load with a key rotation in the middle completes with
no failed request, against a real uvicorn server, on the suite's database (SQLite or PostgreSQL).

This guards what the full run (`python -m bench.load`, see the README) found once: a starvation deadlock that
froze the server under concurrent writes. The latency goals are not asserted here (CI machines vary); the
full command reports them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import load
from tests.fixtures.databases import fresh_postgres_database


@pytest.fixture
def empty_database_url() -> Iterator[str | None]:
    url = os.environ.get("INFOMEDIARY_TEST_DATABASE_URL")
    if url is None:
        yield None  # bench.load makes its own SQLite database
        return
    with fresh_postgres_database(url) as fresh:
        yield fresh


def test_a_short_mixed_load_with_key_rotation_fails_no_request(
    tmp_path: Path, empty_database_url: str | None
) -> None:
    argv = ["--duration", "4", "--rate", "60", "--concurrency", "8", "--population", "60"]
    argv += ["--consumers", "6", "--out", str(tmp_path)]
    if empty_database_url is not None:
        argv += ["--database-url", empty_database_url]

    code = load.main(argv)

    [report] = tmp_path.glob("load-*.json")
    summary = json.loads(report.read_text())
    assert summary["key_rotation_exit_code"] == 0
    assert summary["open_loop"]["errors"] == 0, summary["open_loop"]["routes"]
    assert summary["closed_loop"]["service"]["errors"] == 0, summary["closed_loop"]["service"]["routes"]
    # Every route of the mix was exercised and answered.
    assert set(summary["open_loop"]["routes"]) | set(summary["closed_loop"]["service"]["routes"]) == {
        call.route for call in load.sample_calls()
    }
    assert code == 0
