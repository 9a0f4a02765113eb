"""API fuzzing with schemathesis against the app's own `/openapi.json`, as each kind of caller.

Every operation the caller may reach is fed generated requests, valid and invalid (schemathesis's positive and
negative modes); every response must not be a 5xx, must have a status the operation documents, must match
the documented schema and media type, and must be RFC 9457 problem+json when it is an error.

The number of examples per operation is bounded for the normal run (`--fuzz-examples`, default 8, examples
derandomized so a CI run is repeatable); the full run is one command, see the README:

    python -m pytest tests/api/test_fuzz.py --fuzz-examples=200
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from schemathesis import Case, CheckContext, GenerationMode, Response
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from infomediary.runtime import Runtime
from infomediary.settings import AUDITOR_SCOPES, SUPPLIER_SCOPES
from tests.fixtures.actors import make_auditor, make_consumer, make_supplier
from tests.fixtures.databases import empty_tables
from tests.fixtures.world import make_world

PROBLEM = "application/problem+json"
# Pages and the schema itself are documentation, not API: they have no documented error shape.
UNFUZZED = ("/docs", "/redoc", "/openapi.json")


def problem_json_on_error(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Every 4xx and 5xx answer is an RFC 9457 problem document with its status repeated in the body."""
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.startswith(PROBLEM), f"an error answered {content_type!r}, not {PROBLEM}"
    body = response.json()
    assert isinstance(body, dict) and body.get("status") == response.status_code, body
    assert isinstance(body.get("type"), str) and isinstance(body.get("title"), str), body
    return True


# Deeper bodies are rejected, not sent: schemathesis and httpx encode and validate them recursively and run
# out of stack before the app is reached (the app bounds nesting itself, iteratively, far below this).
MAX_BODY_DEPTH = 200


def _encodable(body: Any) -> bool:
    stack: list[tuple[Any, int]] = [(body, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_BODY_DEPTH:
            return False
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        stack.extend((child, depth + 1) for child in children)
    return True


@st.composite
def _drawn_within_the_stack(draw: st.DrawFn, strategy: st.SearchStrategy[Case]) -> Case:
    """A case of `strategy`, or none: schemathesis, mutating the recursive audience predicate schema for a
    negative case, can build a strategy that recurses without end (RecursionError while drawing, on the
    client side; the app never sees such a request). Such a draw is dropped instead of ending the
    operation's whole run."""
    try:
        return draw(strategy)
    except RecursionError:
        hypothesis.reject()


CHECKS: list[Callable[..., bool | None]] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    problem_json_on_error,
]

CALLERS = [
    "anonymous",
    "consumer",
    *(f"supplier:{scope}" for scope in SUPPLIER_SCOPES),
    "supplier:",  # a supplier with no scope: its own record, ledger and policy
    *(f"auditor:{scope}" for scope in AUDITOR_SCOPES),
]


def reachable(app: FastAPI, caller: str) -> set[tuple[str, str]]:
    """The operations `caller` holds credentials for, read from the OpenAPI `security` requirements:
    anonymous callers try everything."""
    found = set()
    for path, item in app.openapi()["paths"].items():
        for method, operation in item.items():
            requirements = operation.get("security") or []
            if caller == "anonymous":
                ok = True
            elif caller == "consumer":
                ok = not requirements or any("ConsumerSession" in r for r in requirements)
            else:
                kind, _, scope = caller.partition(":")
                tag = "supplier" if kind == "supplier" else "audit"
                scopes = [r["OAuthClient"] for r in requirements if "OAuthClient" in r]
                ok = tag in operation.get("tags", []) and any(s == ([scope] if scope else []) for s in scopes)
            if ok:
                found.add((method.upper(), path))
    return found


# What a caller asks to learn whether its credentials still work.
WHO_AM_I = {"consumer": "/v1/me", "supplier": "/v1/supplier"}


def credentials(http: TestClient, runtime: Runtime, caller: str) -> tuple[dict[str, str], dict[str, str]]:
    """The caller's headers, and the ids of real objects it owns (path parameters by name): a consumer and
    a supplier of a populated world (`tests/fixtures/world.py`), the supplier's token narrowed to one scope,
    so that routes naming an object reach it, not only the 404 for a made-up id."""
    if caller == "anonymous":
        return {}, {}
    kind, _, scope = caller.partition(":")
    if kind == "auditor":
        return make_auditor(runtime).headers(http, scope=scope), {}
    if kind == "supplier" and not scope:
        return make_supplier(runtime, scopes=[]).headers(http), {}
    world = make_world(http, runtime)
    if caller == "consumer":
        return world.own.consumer.headers, world.own.ids
    return world.own.supplier.headers(http, scope=scope), world.own.ids


@pytest.mark.parametrize("caller", CALLERS)
def test_fuzz_as_each_caller(
    app: FastAPI, http: TestClient, runtime: Runtime, caller: str, fuzz_examples: int
) -> None:
    # Updated in place when refreshed below, so the examples of each operation read the current ones.
    headers: dict[str, str] = {}
    owned: dict[str, str] = {}

    def refresh(*, empty: bool = False) -> None:
        if empty:
            # From an empty database: the failed logins fuzzed so far would throttle the new log-in.
            empty_tables(runtime.engine)
        fresh, ids = credentials(http, runtime, caller)
        headers.clear()
        headers.update(fresh)
        owned.clear()
        owned.update(ids)

    refresh()
    allowed = reachable(app, caller)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [
        result.ok()
        for result in schema.get_all_operations()
        if (result.ok().method.upper(), result.ok().path) in allowed
        and not result.ok().path.startswith(UNFUZZED)
    ]
    if not operations:
        pytest.skip(f"no route needs {caller} yet")
    # Deletions last (a deleted rule or webhook cannot be fuzzed further; deleting the session or the
    # account ends the caller), and fresh credentials and objects whenever an operation ended them.
    operations.sort(key=lambda op: (op.method.upper() == "DELETE", op.path, op.method))
    probe = WHO_AM_I.get(caller.partition(":")[0])
    failures: dict[str, str] = {}
    for operation in operations:
        if probe and http.get(probe, headers=headers).status_code == 401:
            refresh(empty=True)
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            _drawn_within_the_stack(operation.as_strategy(GenerationMode.NEGATIVE)),
        )

        @hypothesis.settings(
            max_examples=fuzz_examples,
            deadline=None,
            database=None,
            derandomize=fuzz_examples <= 20,
            suppress_health_check=list(HealthCheck),
            phases=[hypothesis.Phase.generate, hypothesis.Phase.shrink],
            report_multiple_bugs=False,
        )
        @given(case=strategy, real=st.booleans())
        def fuzz(case: Case, real: bool) -> None:
            if case.body is not NOT_SET and not _encodable(case.body):
                hypothesis.reject()  # nested too deep for the client side of the test to encode
            if real and case.path_parameters:
                # Half the time, the path names the caller's own object; the rest of the request is fuzzed.
                case.path_parameters = {k: owned.get(k, v) for k, v in case.path_parameters.items()}
            response = case.call(headers=headers)
            case.validate_response(response, checks=CHECKS, headers=headers)

        try:
            fuzz()
        # Every operation is tried and all failures reported together (schemathesis raises a group).
        except (Exception, BaseExceptionGroup) as exc:
            failures[f"{operation.method.upper()} {operation.path}"] = f"{exc.__class__.__name__}: {exc}"
    assert not failures, f"as {caller}:\n" + "\n\n".join(f"{op}\n{text}" for op, text in failures.items())


def test_every_error_the_api_documents_is_problem_json(app: FastAPI) -> None:
    """The documented error responses name problem+json, so the conformance checks above mean something."""
    wrong: list[str] = []
    for path, item in app.openapi()["paths"].items():
        if path.startswith(UNFUZZED):
            continue
        for method, operation in item.items():
            for status, response in operation.get("responses", {}).items():
                content: dict[str, Any] = response.get("content", {})
                if status[0] in "45" and list(content) != [PROBLEM]:
                    wrong.append(f"{method.upper()} {path} {status}: {sorted(content)}")
            documented = set(operation.get("responses", {}))
            schemes = {name for requirement in operation.get("security", []) for name in requirement}
            needed = ({"401"} if schemes else set()) | ({"403"} if "OAuthClient" in schemes else set())
            if needed - documented:
                wrong.append(
                    f"{method.upper()} {path}: needs credentials but documents no {needed - documented}"
                )
            if "422" not in documented and (operation.get("parameters") or operation.get("requestBody")):
                wrong.append(f"{method.upper()} {path}: takes input but documents no 422")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("caller", ["newcomer", "consumer", "supplier:all"])
def test_fuzz_statefully(
    app: FastAPI, http: TestClient, runtime: Runtime, caller: str, fuzz_examples: int
) -> None:
    """Chains of calls where one response names what the next request needs (register, log in, edit the
    profile; send an offer, then read it; give a consent, then withdraw it), with links schemathesis infers
    or the OpenAPI declares. Credentials come from the real chains: registration and login, or the token
    endpoint."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    # Each run of the machine starts from an empty database and fresh credentials: hypothesis replays runs,
    # and a replay must meet the state the first run met (an email already registered would answer 409).
    fresh: Callable[[], dict[str, str]]
    if caller == "newcomer":
        # No credentials: the chain registers and logs in with the same credentials.
        fresh = dict
        base = schema.include(path_regex=r"^/v1/(accounts|session|me/profile)$").as_state_machine()
    elif caller == "consumer":
        fresh = lambda: make_consumer(http).headers  # noqa: E731
        # Entry points are chosen among the operations kept, so keep only what this caller may call.
        base = schema.include(path_regex=r"^/v1/me").as_state_machine()
    else:
        fresh = lambda: make_supplier(runtime).headers(http)  # noqa: E731
        base = schema.include(tag="supplier").as_state_machine()

    reached: set[tuple[str, str, int]] = set()
    headers: dict[str, str] = {}

    class Chains(base):  # type: ignore[valid-type,misc]
        def setup(self) -> None:
            super().setup()
            empty_tables(runtime.engine)
            headers.clear()
            headers.update(fresh())

        def get_call_kwargs(self, case: Case) -> dict[str, Any]:
            return {"headers": headers}

        def after_call(self, response: Response, case: Case) -> None:
            super().after_call(response, case)
            reached.add((case.method.upper(), case.path, response.status_code))

        def validate_response(self, response: Response, case: Case, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS, headers=headers)

    assert any(name.startswith("RANDOM__") for name in dir(Chains)), f"no chain starts from {caller}'s routes"
    Chains.run(
        settings=hypothesis.settings(
            max_examples=fuzz_examples,
            stateful_step_count=5,
            deadline=None,
            database=None,
            derandomize=fuzz_examples <= 20,
            suppress_health_check=list(HealthCheck),
        )
    )
    if caller == "newcomer":
        # Registering, then logging in with the same credentials, meets the unconfirmed address: the link
        # that confirms it is in the mail, which no response carries (the "consumer" chains start past it).
        unconfirmed = {r for r in reached if r[:2] == ("POST", "/v1/session") and r[2] == 403}
        assert unconfirmed, (
            f"no chain registered, then logged in with the same credentials: {sorted(reached)}"
        )
