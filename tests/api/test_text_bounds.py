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
