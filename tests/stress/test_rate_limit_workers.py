"""The rate limit holds across uvicorn workers: `infomediary serve --workers 2`, a burst of logins from one
address on fresh connections (so both workers take requests), exactly the limit gets through."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from infomediary import schema
from infomediary.runtime import Runtime
from infomediary.settings import Settings
from tests.fixtures.databases import fresh_postgres_database
from tests.stress.server import Server, free_port, server_env

# Real commits on the real engines: this module's tests race connections or read what a commit leaves.
pytestmark = pytest.mark.committing

LIMIT = 7
ATTEMPTS = 30


def _burst(tmp_path: Path, database_url: str | None) -> None:
    port = free_port()
    env = server_env(
        tmp_path / "var",
        database_url,
        port,
        rate_limit_login=str(LIMIT),
        rate_limit_window_seconds="3600",
        login_max_failures_per_address="1000",
    )
    settings = Settings(data_dir=tmp_path / "var", database_url=database_url)
    with Runtime.open(settings) as runtime:
        runtime.keys.ensure()
        schema.upgrade(runtime.engine)
    server = Server(env, port, tmp_path / "server.log", workers=2)
    server.start()
    try:

        def attempt(n: int) -> httpx.Response:
            # A new connection per request: uvicorn's workers share the listening socket, so the burst
            # spreads over both of them.
            body = {"email": f"nobody-{n}@example.org", "password": "a wrong but long password"}
            return httpx.post(f"{server.url}/v1/session", json=body, timeout=60)

        with ThreadPoolExecutor(max_workers=8) as pool:
            responses = list(pool.map(attempt, range(ATTEMPTS)))
    finally:
        server.stop()
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(401) == LIMIT, statuses
    limited = [r for r in responses if r.status_code == 429]
    assert len(limited) == ATTEMPTS - LIMIT
    for response in limited:
        assert response.headers["content-type"] == "application/problem+json"
        assert 1 <= int(response.headers["retry-after"]) <= 3600


def test_the_login_limit_is_shared_by_every_worker(tmp_path: Path) -> None:
    admin_url = os.environ.get("INFOMEDIARY_TEST_DATABASE_URL")
    if admin_url:
        with fresh_postgres_database(admin_url) as url:
            _burst(tmp_path, url)
    else:
        _burst(tmp_path, None)
