"""Text and numbers at the edge: a NUL (which PostgreSQL refuses in text) in any query parameter, path
parameter or free-text field, or a number past its bound, is a 4xx problem, never a failed query or a value
stored. The query-parameter sweep reads every operation from the OpenAPI document, as an attacker would."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from infomediary.runtime import Runtime
from tests.conftest import ISSUER
from tests.fixtures.offers import body
from tests.fixtures.runtimes import reconfigured
from tests.fixtures.world import make_world

# A NUL alone, and one after what passes for a well-formed cursor's head (`<micros>.<id>`).
PROBES = ("a\x00b", "1.a\x00b")


@pytest.fixture
def http(runtime: Runtime) -> Iterator[TestClient]:
    """One customer per side in the world: its offers go out without the minimum audience at sending."""
    with TestClient(create_app(runtime=reconfigured(runtime, audience_min_cohort=0)), base_url=ISSUER) as c:
        yield c


def _string_query_parameters(app: FastAPI) -> list[tuple[str, str, str]]:
    """(method, path, parameter) for every string query parameter of every operation."""
    found = []
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                kinds = {schema.get("type")} | {s.get("type") for s in schema.get("anyOf", [])}
                if parameter["in"] == "query" and "string" in kinds:
                    found.append((method.upper(), path, parameter["name"]))
    return found


def test_a_nul_in_any_string_query_parameter_is_never_a_server_error(
    http: TestClient, app: FastAPI, runtime: Runtime
) -> None:
    world = make_world(http, runtime)
    callers = [world.own.consumer.headers, world.own.supplier_headers, world.auditor]
    swept = _string_query_parameters(app)
    assert len(swept) >= 10, swept  # the cursors, filters and ids of the list routes at least
    failures = []
    for method, template, name in swept:
        path = template
        for key, value in world.own.ids.items():
            path = path.replace("{" + key + "}", value)
        if "{" in path:
            continue  # an operation on an object this world has no id for
        for headers in callers:
            for probe in PROBES:
                response = http.request(method, path, params={name: probe}, headers=headers)
                if response.status_code >= 500:
                    failures.append((method, template, name, probe, response.status_code))
    assert failures == [], "\n".join(map(str, failures))


@pytest.mark.parametrize(
    ("path", "body"),
    [
        # Valid in every other way: only the NUL can refuse them.
        ("/v1/catalog/rules", {"name": "ten\x00off", "rule": {"then": [{"show_item": "sku:female"}]}}),
        ("/v1/offers", body(content="boots\x00")),
    ],
)
def test_a_nul_in_supplier_free_text_is_a_422(
    http: TestClient, runtime: Runtime, path: str, body: dict[str, Any]
) -> None:
    world = make_world(http, runtime)
    headers = {**world.own.supplier_headers, "Idempotency-Key": "nul-test-0001"}
    response = http.post(path, json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    # The same body without the NUL is accepted: the NUL alone was refused.
    clean = {
        key: value.replace("\x00", "") if isinstance(value, str) else value for key, value in body.items()
    }
    accepted = http.post(path, json=clean, headers={**headers, "Idempotency-Key": "nul-test-0002"})
    assert accepted.status_code == 201, accepted.text


def test_a_profile_number_past_its_bound_is_a_422_and_not_stored(http: TestClient, runtime: Runtime) -> None:
    world = make_world(http, runtime)
    headers = world.own.consumer.headers
    refused = http.patch("/v1/me/profile", json={"monthly_savings": 10**40}, headers=headers)
    assert refused.status_code == 422, refused.text
    fields = {f["key"]: f["value"] for f in http.get("/v1/me/profile", headers=headers).json()["fields"]}
    assert fields["monthly_savings"] is None
    assert http.patch("/v1/me/profile", json={"monthly_savings": 1200}, headers=headers).status_code == 200


# A cursor is the last id of the previous page; one past its id column's range (2**31 for a serial column,
# 2**63 for a bigserial one) was a failed query on PostgreSQL, a 500.
SERIAL_PAST, BIGSERIAL_PAST = 2**31, 2**63


@pytest.mark.parametrize(
    ("caller", "path", "past"),
    [
        ("consumer", "/v1/me/rewards", SERIAL_PAST),
        ("consumer", "/v1/me/profile/history", BIGSERIAL_PAST),
        ("consumer", "/v1/me/activity", BIGSERIAL_PAST),
        ("consumer", "/v1/me/log", BIGSERIAL_PAST),
        ("supplier", "/v1/supplier/ledger", SERIAL_PAST),
        ("supplier", "/v1/supplier/webhooks/{webhook_id}/deliveries", SERIAL_PAST),
        ("auditor", "/v1/audit/tree-heads", SERIAL_PAST),
    ],
)
def test_a_cursor_past_its_id_column_is_a_422(
    http: TestClient, runtime: Runtime, caller: str, path: str, past: int
) -> None:
    world = make_world(http, runtime)
    headers = {
        "consumer": world.own.consumer.headers,
        "supplier": world.own.supplier_headers,
        "auditor": world.auditor,
    }[caller]
    path = path.format(**world.own.ids)
    refused = http.get(path, params={"cursor": str(past)}, headers=headers)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    # The largest id the column holds is a cursor like any other.
    assert http.get(path, params={"cursor": str(past - 1)}, headers=headers).status_code == 200
