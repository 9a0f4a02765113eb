"""RFC 9457 problem+json: one schema and the one place where every error becomes a response."""

from __future__ import annotations

import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.middleware import security_headers
from infomediary.database import is_contention
from infomediary.errors import DomainError, problem_type

PROBLEM_MEDIA_TYPE = "application/problem+json"
log = structlog.get_logger("infomediary.api")

HTTP_PROBLEMS: dict[int, tuple[str, str]] = {
    400: ("bad-request", "Bad request"),
    401: ("unauthenticated", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    413: ("payload-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation-error", "The request is not valid"),
    429: ("too-many-requests", "Too many requests"),
    500: ("internal-error", "Internal server error"),
    503: ("service-unavailable", "Service unavailable"),
}
# Seconds a client is asked to wait after losing a race for a lock: the holder is one short transaction.
CONTENTION_RETRY_AFTER = 1


class InvalidParam(BaseModel):
    pointer: str = Field(description="Where the problem is, e.g. `/body/email`.")
    reason: str


class Problem(BaseModel):
    """An RFC 9457 problem details object."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="A stable URI naming the kind of problem.")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None
    errors: list[InvalidParam] | None = None


def problem_response(
    request: Request | None,
    *,
    status: int,
    type_uri: str,
    title: str,
    detail: str | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body: dict[str, Any] = {"type": type_uri, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if request is not None:
        body["instance"] = request.url.path
        request_id = request.scope.get("state", {}).get("request_id")
        if request_id:
            body["request_id"] = request_id
    body.update(extensions)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def _http_problem(request: Request | None, status: int, detail: str | None = None, **kw: Any) -> JSONResponse:
    slug, title = HTTP_PROBLEMS.get(status, ("http-error", "HTTP error"))
    return problem_response(
        request, status=status, type_uri=problem_type(slug), title=title, detail=detail, **kw
    )


def _pointer(loc: tuple[Any, ...] | list[Any]) -> str:
    return "/" + "/".join(str(part) for part in loc)


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    headers = dict(exc.headers)
    if exc.status == 401:
        # RFC 9110 section 15.5.2: a 401 always names the scheme that would work.
        headers.setdefault("WWW-Authenticate", 'Bearer realm="infomediary"')
    return problem_response(
        request,
        status=exc.status,
        type_uri=exc.type_uri(),
        title=exc.title,
        detail=exc.detail,
        headers=headers or None,
        **exc.extensions,
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # Only the location and the message: echoing the rejected input could put a password in a response.
    errors = [
        {"pointer": _pointer(e.get("loc", ())), "reason": str(e.get("msg", "invalid"))} for e in exc.errors()
    ]
    return _http_problem(request, 422, "the request does not match the documented schema", errors=errors)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers) if exc.headers else None
    detail = exc.detail if isinstance(exc.detail, str) and exc.status_code != 500 else None
    return _http_problem(request, exc.status_code, detail, headers=headers)


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    """Contention (SQLite's lock not had within the busy timeout, a PostgreSQL deadlock victim, no
    connection free in time) is a 503 with Retry-After: the request's transaction rolled back whole, and
    the same request may succeed again. Any other database error is a bug (500)."""
    if not is_contention(exc):
        return await _unhandled(request, exc)
    log.warning("database_contention", error_type=exc.__class__.__name__, path=request.url.path)
    return _http_problem(
        request,
        503,
        "the database was busy with other requests and this request changed nothing; send it again",
        headers={"Retry-After": str(CONTENTION_RETRY_AFTER)},
    )


def _database_facts(exc: Exception) -> dict[str, str]:
    """The SQLSTATE and constraint of a database error: names, never values."""
    if not isinstance(exc, DBAPIError):
        return {}
    facts = {"sqlstate": getattr(exc.orig, "sqlstate", None)}
    diag = getattr(exc.orig, "diag", None)
    facts["constraint"] = getattr(diag, "constraint_name", None)
    return {k: v for k, v in facts.items() if v}


async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
    # The message (and the source lines) can carry SQL parameters or literals: log the type and frames only.
    stack = traceback.extract_tb(exc.__traceback__)
    # The project's own frames say where it happened; a library's innermost frames rarely do.
    own = [f for f in stack if "site-packages" not in f.filename and "/lib/python" not in f.filename]
    frames = [f"{f.filename}:{f.lineno} in {f.name}" for f in [*own[-6:], *stack[-1:]]]
    log.error("unhandled_error", error_type=exc.__class__.__name__, frames=frames, **_database_facts(exc))
    response = _http_problem(request, 500, "an unexpected error occurred; it has been logged")
    # Starlette answers 500s outside every middleware, so the headers they add are set here too.
    for name, value in security_headers(https=request.url.scheme == "https", html=False):
        response.headers[name.decode()] = value.decode()
    request_id = request.scope.get("state", {}).get("request_id")
    if request_id:
        response.headers["x-request-id"] = request_id
    return response


Handler = Callable[[Request, Exception], Awaitable[Response]]


@dataclass(frozen=True)
class PageErrors:
    """How problems look on HTML routes: `wants` picks the requests, `render` makes the page."""

    wants: Callable[[Request], bool]
    render: Callable[[Request, JSONResponse], Response]


def _html_aware(handler: Handler, pages: PageErrors) -> Handler:
    async def handle(request: Request, exc: Exception) -> Response:
        problem = await handler(request, exc)
        if not pages.wants(request) or not isinstance(problem, JSONResponse):
            return problem
        page = pages.render(request, problem)
        if problem.status_code >= 500:
            for name, value in security_headers(https=request.url.scheme == "https", html=True):
                page.headers.setdefault(name.decode(), value.decode())
        return page

    return handle


def install(app: FastAPI, pages: PageErrors | None = None) -> None:
    handlers: list[tuple[type[Exception], Handler]] = [
        (DomainError, _domain_error),
        (RequestValidationError, _validation_error),
        (StarletteHTTPException, _http_error),
        (DBAPIError, _database_error),
        (PoolTimeoutError, _database_error),
        (Exception, _unhandled),
    ]
    for exc_class, handler in handlers:
        app.add_exception_handler(exc_class, _html_aware(handler, pages) if pages else handler)


PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
# Answered by the app as a whole rather than by a route: a malformed or oversized body (the body limit
# middleware), and a request that fails validation (the handler above; FastAPI would document its own
# application/json shape instead).
BODY_PROBLEMS = (400, 413, 422)


def _problem_response(status: int) -> dict[str, Any]:
    return {
        "description": HTTP_PROBLEMS.get(status, ("", "Error"))[1],
        "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_REF}},
    }


def _document(schema: dict[str, Any]) -> dict[str, Any]:
    """Make the OpenAPI say what the handlers above do: every error is problem+json, and every operation
    documents the problems the app answers on its behalf (400/413/422 for a body, 422 for parameters)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(problem.pop("$defs", {}))
    components["Problem"] = problem
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            added: tuple[int, ...] = ()
            if "requestBody" in operation:
                added = BODY_PROBLEMS
            elif operation.get("parameters"):
                added = (422,)
            for status in added:
                responses.setdefault(str(status), _problem_response(status))
            for code, response in responses.items():
                if code[0] in "45":
                    response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_REF}}
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema


def document(app: FastAPI) -> None:
    """Post-process the generated OpenAPI once (see `_document`)."""
    generate = app.openapi
    documented: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        # FastAPI caches the schema and regenerates it when routes are added: document each one once.
        schema = generate()
        if not documented or documented[0] is not schema:
            documented[:] = [_document(schema)]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries documenting problem+json for the given statuses."""
    return {
        status: {
            "model": Problem,
            "description": HTTP_PROBLEMS.get(status, ("", "Error"))[1],
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }
