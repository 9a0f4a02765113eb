"""The route class of every router: a blocking endpoint runs and commits in one worker-thread hop.

FastAPI runs a plain `def` endpoint on a worker thread, validates its answer on another hop (it treats the
endpoint as blocking), and the request's session dependency then commits on a third. Under load each hop
waits for a thread and for the GIL, and a transaction holds its row locks (a supplier's budget, the audience
epoch, the policy log's at commit) across all of them: the load benchmark found fresh audience counts queued
behind one another on the budget row for most of their latency.

Here the endpoint is wrapped in a coroutine that runs it on a worker thread and, when it returns normally,
commits the request's session in the same thread, before the response exists. Its answer is then validated
on the event loop (a coroutine's is; the models returned are already built, so that is cheap). The session
dependency (`api.deps`) still owns the transaction: on an exception it rolls back (and writes a refusal's
record, if it has one, in a transaction of its own), and after a commit here it only closes the session. A
client still never sees success for a write that failed to commit; an answer that fails validation after its
commit is a server bug (500), as before.

Each route also knows whether it writes (`CommittingRoute.writes`), from the session its endpoint declares:
`WriteSessionDep` or `ReadSessionDep` (`api.deps`); an endpoint that declares neither writes when its method
is unsafe. The session dependency opens the matching kind of session, so a GET that records something (a
decision in the policy log, a budget charge) runs in a writing transaction like any POST.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from typing import Any

from anyio import to_thread
from fastapi import APIRouter
from fastapi.dependencies.utils import get_typed_signature
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from api.deps import READ_METHODS, SessionKind


def _committing(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    def call_and_commit(kwargs: dict[str, Any]) -> Any:
        result = endpoint(**kwargs)
        for value in kwargs.values():
            if isinstance(value, Session) and value.in_transaction():
                value.commit()
        return result

    @functools.wraps(endpoint)  # FastAPI reads the parameters through __wrapped__
    async def run(**kwargs: Any) -> Any:
        return await to_thread.run_sync(call_and_commit, kwargs)

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


class CommittingRoute(APIRoute):
    """A route whose blocking endpoint commits its session on the thread it ran on (see the module)."""

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
            endpoint = _committing(endpoint)
        super().__init__(path, endpoint, **kwargs)


def api_router(**kwargs: Any) -> APIRouter:
    return APIRouter(route_class=CommittingRoute, **kwargs)
