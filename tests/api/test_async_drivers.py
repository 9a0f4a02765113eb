"""The request path on the real async drivers (asyncpg on PostgreSQL, aiosqlite on SQLite).

Every other API test runs the request sessions on the test connection's synchronous driver (see
`tests/fixtures/transactional.py`); these run on the engines the service itself opens, committing. They
cover what only those drivers take: the hot path's statements sent straight to asyncpg
(`infomediary.database.PreparedRead`), which must see a revocation and a suspension at once, and the
policy log's batch insert and the export stream on the async connection, and a pool with no connection
free in time.
"""

from __future__ import annotations

import anyio
import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.app import create_app
from api.deps import AsyncWriteSessionDep
from api.routing import api_router
from infomediary import database
from infomediary.policylog.integrity import full_check
from infomediary.policylog.models import PolicyLogEntry
from infomediary.runtime import Runtime
from tests.conftest import ISSUER
from tests.fixtures.actors import PASSWORD, make_auditor, make_consumer, make_supplier
from tests.fixtures.consents import publish

pytestmark = pytest.mark.committing


def test_the_supplier_route_sees_a_revocation_and_a_suspension_at_once(
    http: TestClient, runtime: Runtime
) -> None:
    supplier = make_supplier(runtime)
    auditor = make_auditor(runtime)
    token = supplier.token(http)
    me = http.get("/v1/supplier", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200, me.text
    assert me.json()["id"] == supplier.owner_id and me.json()["strikes"] == 0

    revoked = http.post(
        "/oauth/revoke", data={"token": token}, auth=(supplier.client_id, supplier.client_secret)
    )
    assert revoked.status_code == 200
    assert http.get("/v1/supplier", headers={"Authorization": f"Bearer {token}"}).status_code == 401

    fresh = supplier.headers(http)
    suspend = {"supplier_id": supplier.owner_id, "kind": "suspension", "reason": "test"}
    assert http.post("/v1/audit/sanctions", json=suspend, headers=auditor.headers(http)).status_code == 201
    refused = http.get("/v1/supplier", headers=fresh)
    assert refused.status_code == 403
    assert refused.json()["type"].endswith("client-suspended")


def test_a_customer_writes_exports_and_reads_her_log(http: TestClient, runtime: Runtime) -> None:
    consumer = make_consumer(http)
    changed = http.patch(
        "/v1/me/profile", json={"postal_code": "75011", "interests": ["cycling"]}, headers=consumer.headers
    )
    assert changed.status_code == 200, changed.text
    exported = http.get("/v1/me/export", headers=consumer.headers)
    assert exported.status_code == 200
    document = exported.json()
    assert {f["key"]: f["value"] for f in document["profile"]}["postal_code"] == "75011"
    assert len(document["history"]) >= 2

    log = http.get("/v1/me/log", headers=consumer.headers)
    assert log.status_code == 200
    entries = log.json()["entries"]
    assert entries and all(e["audit_path"] is not None for e in entries)
    with runtime.read_session_factory() as session:
        assert full_check(session).whole
        assert session.scalar(select(func.count()).select_from(PolicyLogEntry)) >= len(entries)


@pytest.mark.anyio
async def test_a_request_that_finds_no_free_connection_gets_503_and_changes_nothing(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One writing connection per process, taken by a request that holds it: the next writer waits for it
    # on the event loop, and after the pool's timeout is told to come back, instead of a 500.
    monkeypatch.setattr(database, "REQUEST_WRITE_POOL", 1)
    monkeypatch.setattr(database, "REQUEST_POOL_TIMEOUT_SECONDS", 0.2)
    app = create_app(runtime=runtime)
    holding, release = anyio.Event(), anyio.Event()
    holder = api_router()

    @holder.post("/test/hold-a-connection")
    async def hold_a_connection(session: AsyncWriteSessionDep) -> None:
        await session.execute(select(1))
        holding.set()
        await release.wait()

    app.include_router(holder)
    account = {"email": "pool@example.org", "password": PASSWORD}
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=ISSUER) as client,
        anyio.create_task_group() as tasks,
    ):
        tasks.start_soon(client.post, "/test/hold-a-connection")
        await holding.wait()
        refused = await client.post("/v1/accounts", json=account)
        release.set()

    assert refused.status_code == 503, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert int(refused.headers["retry-after"]) >= 1
    with TestClient(create_app(runtime=runtime), base_url=ISSUER) as http:
        assert http.post("/v1/session", json=account).status_code == 401  # no account was made
        assert http.post("/v1/accounts", json=account).status_code == 202


def test_a_route_that_signs_a_due_head_holds_one_reading_connection_at_a_time(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One reading connection per process: the customer's log reads her session through it, then decides
    # whether a head is due. Deciding through a second read session waited for the first's connection
    # until the pool gave up (a 503 for a plain read, and under load for every concurrent log read).
    monkeypatch.setattr(database, "REQUEST_READ_POOL", 1)
    monkeypatch.setattr(database, "REQUEST_POOL_TIMEOUT_SECONDS", 0.5)
    with TestClient(create_app(runtime=runtime), base_url=ISSUER) as http:
        consumer = make_consumer(http)
        for _ in range(2):  # the first signs the head her registration made due, the second finds it fresh
            log = http.get("/v1/me/log", headers=consumer.headers)
            assert log.status_code == 200, log.text
            assert log.json()["tree_head"] is not None
            assert all(e["audit_path"] is not None for e in log.json()["entries"])


def test_a_repeated_count_is_the_stored_answer_charged_nothing(http: TestClient, runtime: Runtime) -> None:
    # The repeat's first look (epoch, stored answer, balance) is one prepared read sent straight to asyncpg.
    supplier = make_supplier(runtime)
    publish(http, supplier, ["marketing"], ["demographics", "contact", "interests", "purchases"])
    body = {"purpose": "marketing", "predicate": {"eq": ["gender", "female"]}}
    first = http.post("/v1/audiences/count", json=body, headers=supplier.headers(http))
    assert first.status_code == 200, first.text
    again = [
        http.post("/v1/audiences/count", json=body, headers=supplier.headers(http)).json() for _ in range(3)
    ]
    assert all(a["cached"] and a["epsilon_charged"] == 0 for a in again)
    assert {a["count"] for a in again} == {first.json()["count"]}
    assert {a["epsilon_remaining"] for a in again} == {first.json()["epsilon_remaining"]}
    assert not first.json()["cached"] and first.json()["epsilon_charged"] > 0
