"""Text and numbers at the edge: a NUL (which PostgreSQL refuses in text) in any query parameter, path
parameter or free-text field, or a number past its bound, is a 4xx problem, never a failed query or a value
stored. The sweeps read every operation from the OpenAPI document, as an attacker would: every input it
declares must carry its bounds (`infomediary.text`), and the NUL probes must be refused."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from re import _constants as sre
from re import _parser as sre_parse
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.testclient import TestClient

from api.app import create_app
from api.pages.routing import page_routes
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


# -- every declared input carries its bounds ------------------------------------------------------------

# Strings a parser turns into a value before anything else reads them: a time or a date cannot hold a NUL
# nor run long, an email address refuses a NUL and a URL percent-encodes it.
PARSED_FORMATS = {"date", "date-time", "email", "uri"}
UNBOUNDED_FORMATS = {"date", "date-time"}
# Objects the document leaves open because a language of their own checks them, node by node, against
# allow-lists (and refuses a NUL: `test_a_nul_in_supplier_free_text_is_a_422`).
FREE_FORM = {"RuleIn.rule": "the rule language, infomediary.rules.language"}

# Patterns are read with the standard library's own parser (`re._parser`, private but there since 3.11):
# hand-reading them would be a second, weaker regex parser.
_NUL_CATEGORIES = {sre.CATEGORY_NOT_DIGIT, sre.CATEGORY_NOT_SPACE, sre.CATEGORY_NOT_WORD}
_REPEATS = {sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT}
_NOT_CONSUMING = {sre.AT, sre.ASSERT, sre.ASSERT_NOT}


def _set_matches_nul(items: list[tuple[Any, Any]]) -> bool:
    negated = any(op is sre.NEGATE for op, _ in items)
    holds = any(
        (op is sre.LITERAL and value == 0)
        or (op is sre.RANGE and value[0] <= 0 <= value[1])
        or (op is sre.CATEGORY and value in _NUL_CATEGORIES)
        for op, value in items
    )
    return holds != negated


def _may_match_nul(items: Any) -> bool:
    """Whether any character the pattern consumes may be a NUL (unknown constructs count as yes)."""
    for op, value in items:
        if op in _NOT_CONSUMING:
            continue
        if op is sre.LITERAL:
            found = value == 0
        elif op is sre.NOT_LITERAL:
            found = value != 0
        elif op is sre.IN:
            found = _set_matches_nul(value)
        elif op is sre.CATEGORY:
            found = value in _NUL_CATEGORIES
        elif op in _REPEATS:
            found = _may_match_nul(value[2])
        elif op is sre.SUBPATTERN:
            found = _may_match_nul(value[3])
        elif op is sre.ATOMIC_GROUP:
            found = _may_match_nul(value)
        elif op is sre.BRANCH:
            found = any(_may_match_nul(branch) for branch in value[1])
        else:
            found = True
        if found:
            return True
    return False


def _anchored(items: Any) -> bool:
    """Whether the pattern matches whole strings only (a match of part of one would let the rest through)."""
    items = list(items)
    if len(items) == 1 and items[0][0] is sre.BRANCH:
        return all(_anchored(branch) for branch in items[0][1][1])
    starts = {sre.AT_BEGINNING, sre.AT_BEGINNING_STRING}
    ends = {sre.AT_END, sre.AT_END_STRING}
    return (
        len(items) >= 2
        and items[0][0] is sre.AT
        and items[0][1] in starts
        and items[-1][0] is sre.AT
        and items[-1][1] in ends
    )


def refuses_nul(pattern: str) -> bool:
    parsed = sre_parse.parse(pattern)
    return _anchored(parsed) and not _may_match_nul(parsed)


@pytest.mark.parametrize(
    ("pattern", "refused"),
    [
        (r"^[^\x00]*$", True),
        (r"^[^\x00-\x1f\x7f]*$", True),
        (r"^[A-Za-z0-9_-]+$", True),
        (r"^(\*|[A-Za-z0-9_-]+)$", True),
        (r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", True),
        (r"[A-Z]{3}", False),  # unanchored: "EUR\x00" contains a match
        (r"^.*$", False),
        (r"^\S+$", False),
        (r"^[^a]*$", False),
        (r"^\x00?[a-z]$", False),
    ],
)
def test_the_nul_check_reads_patterns_right(pattern: str, refused: bool) -> None:
    assert refuses_nul(pattern) is refused
    if refused:
        assert re.search(pattern, "a\x00") is None


def unbounded(document: dict[str, Any]) -> list[str]:
    """Every input of the document (parameters and request bodies, through their component schemas) that
    lacks a bound: a string without a maximum length or without a pattern refusing NUL, a number without a
    minimum and a maximum, an array without a maximum length, an object open to any property."""
    components = document.get("components", {}).get("schemas", {})
    found: list[str] = []

    def walk(schema: dict[str, Any], where: str, seen: frozenset[str]) -> None:
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                walk(components[name], name, seen | {name})
            return
        for key in ("anyOf", "oneOf", "allOf"):
            for branch in schema.get(key, []):
                walk(branch, where, seen)
        kind = schema.get("type")
        fixed = "enum" in schema or "const" in schema
        if kind == "string" and not fixed:
            form = schema.get("format")
            if "maxLength" not in schema and form not in UNBOUNDED_FORMATS:
                found.append(f"{where}: a string without maxLength")
            pattern = schema.get("pattern")
            if form not in PARSED_FORMATS and (pattern is None or not refuses_nul(pattern)):
                found.append(f"{where}: a string whose pattern ({pattern!r}) does not refuse NUL")
        if kind in ("integer", "number") and not fixed:
            if not {"minimum", "exclusiveMinimum"} & schema.keys():
                found.append(f"{where}: a number without minimum")
            if not {"maximum", "exclusiveMaximum"} & schema.keys():
                found.append(f"{where}: a number without maximum")
        if kind == "array":
            if "maxItems" not in schema:
                found.append(f"{where}: an array without maxItems")
            for index, item in enumerate(schema.get("prefixItems", [])):
                walk(item, f"{where}[{index}]", seen)
            if isinstance(schema.get("items"), dict):
                walk(schema["items"], f"{where}[]", seen)
        if kind == "object":
            for name, child in schema.get("properties", {}).items():
                walk(child, f"{where}.{name}", seen)
            extra = schema.get("additionalProperties", not schema.get("properties"))
            if isinstance(extra, dict):
                walk(extra, f"{where}.*", seen)
            elif extra is not False and where not in FREE_FORM:
                found.append(f"{where}: an object open to any property")

    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            name = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                walk(parameter["schema"], f"{name} {parameter['in']} {parameter['name']}", frozenset())
            for media, content in operation.get("requestBody", {}).get("content", {}).items():
                walk(content["schema"], f"{name} {media}", frozenset())
    return found


def test_every_input_the_api_documents_is_bounded(app: FastAPI) -> None:
    found = unbounded(app.openapi())
    assert not found, "inputs without bounds (use the types of infomediary.text):\n" + "\n".join(found)


def test_every_input_of_the_pages_is_bounded(app: FastAPI) -> None:
    """The pages are left out of the document; the same walk over a document of theirs. A page's form field
    may stay wider than its model (the form is shown again with the model's errors), but not unbounded."""
    routes = []
    for route in page_routes(app):
        shown = copy.copy(route)
        shown.include_in_schema = True
        routes.append(shown)
    assert len(routes) >= 20, routes
    found = unbounded(get_openapi(title="pages", version="0", routes=routes))
    assert not found, "inputs without bounds (use the types of infomediary.text):\n" + "\n".join(found)


# -- NUL probes ----------------------------------------------------------------------------------------


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


def test_a_nul_inside_a_rule_or_a_catalog_row_is_a_422(http: TestClient, runtime: Runtime) -> None:
    """Deeper than the fields above: a rule document is read by the rule language, a catalog row by its
    row model; either refuses the NUL before anything is stored."""
    world = make_world(http, runtime)
    headers = world.own.supplier_headers
    rule = {"name": "ten off", "rule": {"then": [{"show_item": "sku:\x00"}]}}
    assert http.post("/v1/catalog/rules", json=rule, headers=headers).status_code == 422
    row = {"id": "sku:1", "title": "boots\x00", "categories": ["shoes"], "price": 100, "currency": "EUR"}
    assert http.patch("/v1/catalog", json={"upsert": [row]}, headers=headers).status_code == 422
    assert http.patch("/v1/catalog", json={"delete": ["sku:\x00"]}, headers=headers).status_code == 422
    listed = http.get("/v1/catalog", headers=headers).json()["items"]
    assert all("\x00" not in item["title"] and "\x00" not in item["id"] for item in listed)


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
