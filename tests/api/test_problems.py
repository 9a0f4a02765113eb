"""Every error is RFC 9457 problem+json with a stable type, for each status the API produces."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from infomediary.runtime import Runtime
from tests.conftest import ISSUER
from tests.fixtures.actors import make_auditor

PROBLEM_FIELDS = {"type", "title", "status", "detail", "instance", "request_id"}


def _assert_problem(response: object, status: int, type_suffix: str) -> dict[str, object]:
    assert response.status_code == status  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) >= PROBLEM_FIELDS, body
    assert body["status"] == status
    assert body["type"] == f"tag:infomediary.dev,2026:problem/{type_suffix}"
    assert body["request_id"] == response.headers["x-request-id"]  # type: ignore[attr-defined]
    return body


def test_401_problem_with_www_authenticate(http: TestClient) -> None:
    response = http.get("/v1/supplier")
    _assert_problem(response, 401, "invalid-token")
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_403_problem(http: TestClient, runtime: Runtime) -> None:
    _assert_problem(http.get("/v1/supplier", headers=make_auditor(runtime).headers(http)), 403, "wrong-actor")


def test_404_problem(http: TestClient) -> None:
    body = _assert_problem(http.get("/v1/nothing-here"), 404, "not-found")
    assert body["instance"] == "/v1/nothing-here"


def test_405_problem(http: TestClient) -> None:
    response = http.delete("/v1/accounts")
    _assert_problem(response, 405, "method-not-allowed")
    assert "POST" in response.headers["allow"]


def test_413_problem_by_declared_length_and_changes_nothing(http: TestClient, runtime: Runtime) -> None:
    big = (
        b'{"email": "big@example.org", "password": "' + b"x" * (runtime.settings.max_body_bytes + 10) + b'"}'
    )
    response = http.post("/v1/accounts", content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("payload-too-large")
    assert (
        http.post("/v1/session", json={"email": "big@example.org", "password": "x" * 20}).status_code == 401
    )


def test_413_problem_for_a_streamed_body_without_length(http: TestClient, runtime: Runtime) -> None:
    def chunks() -> object:
        for _ in range(runtime.settings.max_body_bytes // 65536 + 2):
            yield b"x" * 65536

    response = http.post("/v1/accounts", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["type"].endswith("payload-too-large")


def test_422_problem_lists_each_invalid_field(http: TestClient) -> None:
    response = http.post("/v1/accounts", json={"email": 42})
    body = _assert_problem(response, 422, "validation-error")
    assert {e["pointer"] for e in body["errors"]} == {"/body/email", "/body/password"}


def test_422_for_malformed_json(http: TestClient) -> None:
    response = http.post("/v1/accounts", content=b"{not json", headers={"content-type": "application/json"})
    _assert_problem(response, 422, "validation-error")


@pytest.fixture
def failing_app(app: FastAPI) -> FastAPI:
    router = APIRouter()

    @router.get("/v1/test-only/boom")
    def boom() -> None:
        raise RuntimeError("secret internal detail: postgres://admin:hunter2@db")

    app.include_router(router)
    return app


def test_500_problem_leaks_no_internals(failing_app: FastAPI, capsys: pytest.CaptureFixture[str]) -> None:
    with TestClient(failing_app, base_url=ISSUER, raise_server_exceptions=False) as http:
        response = http.get("/v1/test-only/boom")
    body = _assert_problem(response, 500, "internal-error")
    assert "hunter2" not in response.text and "RuntimeError" not in response.text
    assert body["detail"] == "an unexpected error occurred; it has been logged"
    logged = capsys.readouterr().err
    assert "unhandled_error" in logged and "RuntimeError" in logged
    assert "hunter2" not in logged


def test_request_id_is_echoed_when_well_formed_and_replaced_when_not(http: TestClient) -> None:
    assert (
        http.get("/healthz", headers={"X-Request-ID": "abcdef123456"}).headers["x-request-id"]
        == "abcdef123456"
    )
    replaced = http.get("/healthz", headers={"X-Request-ID": "bad id\nwith newline"}).headers["x-request-id"]
    assert replaced != "bad id\nwith newline" and len(replaced) == 16


def test_security_headers_on_every_response(http: TestClient) -> None:
    for response in (http.get("/healthz"), http.get("/v1/nothing")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"


def test_openapi_documents_problem_responses_and_actor_tags(http: TestClient) -> None:
    spec = http.get("/openapi.json").json()
    login = spec["paths"]["/v1/session"]["post"]
    assert "application/problem+json" in login["responses"]["429"]["content"]
    assert login["tags"] == ["consumer"]
    assert spec["paths"]["/v1/supplier"]["get"]["tags"] == ["supplier"]
    assert "Problem" in spec["components"]["schemas"]
    schemes = spec["components"]["securitySchemes"]
    assert schemes["OAuthClient"]["flows"]["clientCredentials"]["tokenUrl"] == "/oauth/token"


def test_every_401_names_an_authentication_scheme(http: TestClient, runtime: Runtime) -> None:
    auditor = make_auditor(runtime)
    token_request = {"grant_type": "client_credentials"}
    answers = [
        http.get("/v1/me"),
        http.get("/v1/supplier", headers={"Authorization": "Bearer nonsense"}),
        http.post("/v1/session", json={"email": "nobody@example.org", "password": "x" * 12}),
        http.post("/oauth/token", data=token_request, auth=(auditor.client_id, "wrong")),
    ]
    for response in answers:
        assert response.status_code == 401, response.text
        assert response.headers.get("www-authenticate"), response.request.url
