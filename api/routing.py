"""The route class of every router: it knows whether its requests write, and runs a plain endpoint on the
event loop, inside the request session's greenlet.

Each route knows whether it writes (`UnitOfWorkRoute.writes`), from the session its endpoint declares:
`WriteSessionDep` / `AsyncWriteSessionDep` or `ReadSessionDep` / `AsyncReadSessionDep` (`api.deps`); an
endpoint that declares neither writes when its method is unsafe. The session dependency opens the matching
kind of session, so a GET that records something (a decision in the policy log, a budget charge) runs in a
writing transaction like any POST.

An endpoint written as a plain function (`def`) takes the synchronous view of the request's session and
calls services directly. FastAPI would run it on a worker thread, where the async driver cannot be awaited;
here it runs instead through SQLAlchemy's `greenlet_spawn` (what `AsyncSession.run_sync` uses): on the event
loop, each statement awaited on the driver, no thread hop. It must not block: CPU-heavy steps go through
`infomediary.offload`.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.dependencies.utils import get_typed_signature
from fastapi.routing import APIRoute
from sqlalchemy.util import greenlet_spawn

from api.deps import READ_METHODS, UNIT_OF_WORK, SessionKind, UnitOfWork, request_sessions


def _in_greenlet(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(endpoint)  # FastAPI reads the parameters through __wrapped__
    async def run(**kwargs: Any) -> Any:
        return await greenlet_spawn(endpoint, **kwargs)

    return run


def declared_session(endpoint: Callable[..., Any]) -> SessionKind | None:
    """The kind of session the endpoint's parameters declare, if any (a `SessionKind` in `Annotated`)."""
    kinds = {
        extra
        for parameter in get_typed_signature(endpoint).parameters.values()
        if typing.get_origin(parameter.annotation) is typing.Annotated
        for extra in typing.get_args(parameter.annotation)[1:]
        if isinstance(extra, SessionKind)
    }
    if len(kinds) > 1:
        raise TypeError(f"{endpoint.__qualname__} declares both a read and a write session; take one")
    return kinds.pop() if kinds else None


class UnitOfWorkRoute(APIRoute):
    """A route that knows its session's kind and runs a plain endpoint in the session's greenlet."""

    writes: bool
    """Whether requests to this route get a writing session (see the module)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        kind = declared_session(endpoint)
        methods = {m.upper() for m in kwargs.get("methods") or ["GET"]}
        self.writes = kind is SessionKind.WRITE if kind is not None else bool(methods - READ_METHODS)
        blocking = not (
            inspect.iscoroutinefunction(endpoint)
            or inspect.isgeneratorfunction(endpoint)
            or inspect.isasyncgenfunction(endpoint)
        )
        if blocking:
            endpoint = _in_greenlet(endpoint)
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The handler, inside the request's unit of work: opened before the dependencies are solved, ended
        (committed, or rolled back on any exception) before the response is sent, so a client never sees
        success for a write that failed to commit."""
        handle = super().get_route_handler()
        writes = self.writes

        async def in_unit_of_work(request: Request) -> Response:
            unit = request.scope[UNIT_OF_WORK] = UnitOfWork(request_sessions(request), writes=writes)
            try:
                response = await handle(request)
            except BaseException as exc:
                await unit.end(exc)
                raise
            await unit.end(None)
            return response

        return in_unit_of_work


def api_router(**kwargs: Any) -> APIRouter:
    return APIRouter(route_class=UnitOfWorkRoute, **kwargs)
