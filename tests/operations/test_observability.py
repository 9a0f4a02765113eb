"""What an operator sees: health, readiness, metrics by route template, and logs without personal data."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from infomediary.runtime import Runtime
from tests.fixtures.actors import make_consumer, make_supplier


def test_healthz_and_readyz(http: TestClient) -> None:
    assert http.get("/healthz").json() == {"status": "ok"}
    assert http.get("/readyz").json() == {"status": "ready"}


def test_metrics_count_requests_by_route_template_not_by_raw_path(http: TestClient) -> None:
    http.get("/v1/nothing/123")
    consumer = make_consumer(http)
    http.get("/v1/me", headers=consumer.headers)
    text = http.get("/metrics").text
    assert 'infomediary_http_requests_total{method="GET",route="/v1/me",status="200"} 1.0' in text
    assert 'route="<unmatched>",status="404"' in text
    assert "/v1/nothing/123" not in text, "raw paths would explode metric cardinality"
    assert "infomediary_http_request_duration_seconds_bucket" in text


def test_logs_are_json_with_request_ids_and_no_personal_data(
    http: TestClient, runtime: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    email, password = "Log.Watcher@example.org", "a passphrase nobody should log"
    consumer = make_consumer(http, email=email, password=password)
    http.post("/v1/session", json={"email": email, "password": "wrong wrong wrong"})
    client = make_supplier(runtime)
    token = client.token(http)
    http.get("/v1/supplier", headers={"Authorization": f"Bearer {token}"})
    captured = capsys.readouterr().err
    lines = [json.loads(line) for line in captured.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line.get("event") == "request"]
    assert len(requests) >= 5
    assert all(len(line["request_id"]) >= 8 for line in requests)
    for secret in (email, email.lower(), password, consumer.token, client.client_secret, token):
        assert secret not in captured, f"a secret reached the logs: {secret[:6]}..."
