"""One transaction per request: a handler that fails after writing leaves nothing behind; success commits
before the response is sent."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.deps import RuntimeDep, WriteSessionDep
from api.routing import api_router
from infomediary.customers.models import Customer
from infomediary.errors import Conflict
from infomediary.flows import account_registered
from infomediary.runtime import Runtime
from tests.conftest import ISSUER
from tests.fixtures.mail import messages_to


@pytest.fixture
def faulty_app(app: FastAPI) -> FastAPI:
    router = api_router()

    @router.post("/v1/test-only/register-then-fail")
    def register_then_fail(session: WriteSessionDep, runtime: RuntimeDep) -> None:
        account_registered.register(
            session, runtime, email="half@example.org", password="a long enough password"
        )
        raise Conflict("injected failure after the write")

    @router.post("/v1/test-only/register-then-crash")
    def register_then_crash(session: WriteSessionDep, runtime: RuntimeDep) -> None:
        account_registered.register(
            session, runtime, email="crash@example.org", password="a long enough password"
        )
        raise RuntimeError("injected crash after the write")

    app.include_router(router)
    return app


def _customers(runtime: Runtime) -> int:
    with runtime.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(Customer)) or 0)


def test_a_failed_request_changes_nothing(faulty_app: FastAPI, runtime: Runtime) -> None:
    with TestClient(faulty_app, base_url=ISSUER, raise_server_exceptions=False) as http:
        assert http.post("/v1/test-only/register-then-fail").status_code == 409
        assert http.post("/v1/test-only/register-then-crash").status_code == 500
        assert _customers(runtime) == 0
        # Nor did they mail a link to an account that does not exist.
        assert messages_to(runtime, "half@example.org") == messages_to(runtime, "crash@example.org") == []
        # ...while the same write through the real route is committed and visible at once.
        ok = http.post(
            "/v1/accounts", json={"email": "half@example.org", "password": "a long enough password"}
        )
        assert ok.status_code == 202
        assert _customers(runtime) == 1
        assert len(messages_to(runtime, "half@example.org")) == 1
