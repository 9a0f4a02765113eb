"""The export reads one snapshot on PostgreSQL: what is committed while the stream runs appears in no section.

The request path reads in autocommit there, each statement seeing what was committed before it, so the
export takes read sessions of its own (`RequestSessions.snapshots`, REPEATABLE READ). Real engines on a fresh
PostgreSQL database of its own (so it runs, or outside CI skips visibly, even when the suite is on SQLite);
the tests' shared connection could not show two transactions. On SQLite one deferred read transaction in WAL
mode is already one snapshot, and the export's session holds one for the whole stream.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from infomediary.database import RequestSessions
from infomediary.portability import export
from infomediary.runtime import Runtime
from tests.conftest import ISSUER
from tests.fixtures.actors import Consumer, make_consumer, make_supplier
from tests.fixtures.consents import grant, publish

pytestmark = pytest.mark.committing


async def _rest(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in chunks])


def _export_around(
    loop: asyncio.AbstractEventLoop, runtime: Runtime, consumer: Consumer, sessions: Any, change: Any
) -> dict[str, Any]:
    """Start the export stream, read its first chunk, commit `change` through the API, finish the stream."""
    chunks = export.stream(sessions, runtime, consumer.id)
    first = loop.run_until_complete(anext(chunks))
    change()
    return dict(json.loads(first + loop.run_until_complete(_rest(chunks))))


def test_a_change_committed_mid_export_appears_in_no_section(pg_runtime: Runtime) -> None:
    with TestClient(create_app(runtime=pg_runtime), base_url=ISSUER) as http:
        consumer = make_consumer(http)
        shop = make_supplier(pg_runtime)
        publish(http, shop, ["marketing"], ["interests", "health"])
        patched = http.patch("/v1/me/profile", json={"postal_code": "75011"}, headers=consumer.headers)
        assert patched.status_code == 200, patched.text

        def change(postal_code: str, category: str) -> Any:
            def commit() -> None:
                moved = http.patch(
                    "/v1/me/profile", json={"postal_code": postal_code}, headers=consumer.headers
                )
                assert moved.status_code == 200, moved.text
                granted = grant(http, consumer, shop.owner_id, "marketing", category)
                assert granted.status_code == 201, granted.text

            return commit

        # The stream's engines on a loop of their own, as the server's are on its.
        loop = asyncio.new_event_loop()
        sessions = RequestSessions.open(pg_runtime.settings.resolved_database_url)
        try:
            # The first chunk (account, profile) was read before the change; the history and the consents,
            # read after it was committed, must not show it either.
            document = _export_around(
                loop, pg_runtime, consumer, sessions.snapshots, change("10115", "health")
            )
            postal = {f["key"]: f["value"] for f in document["profile"]}["postal_code"]
            assert postal == "75011"
            assert "10115" not in json.dumps(document["history"])
            assert document["consents"] == []

            # The same stream on the plain reads (autocommit): the later sections see the change. What the
            # snapshot is there for, and proof that this test can tell.
            torn = _export_around(loop, pg_runtime, consumer, sessions.reads, change("20095", "interests"))
            assert {f["key"]: f["value"] for f in torn["profile"]}["postal_code"] == "10115"
            assert "20095" in json.dumps(torn["history"])
            assert {c["category"] for c in torn["consents"]} == {"health", "interests"}
        finally:
            loop.run_until_complete(sessions.close())
            loop.close()

        # Once the export is done, a new one shows everything committed meanwhile.
        after = http.get("/v1/me/export", headers=consumer.headers).json()
        assert {f["key"]: f["value"] for f in after["profile"]}["postal_code"] == "20095"
        assert len(after["consents"]) == 2
