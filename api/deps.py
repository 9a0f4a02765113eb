"""Request-scoped dependencies shared by every router: the runtime and the transaction-owning session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from infomediary.errors import DomainError
from infomediary.runtime import Runtime


async def get_runtime(request: Request) -> Runtime:
    # async on purpose: FastAPI runs a plain `def` dependency in the thread pool, a hop for nothing here.
    runtime: Runtime = request.app.state.runtime
    return runtime


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request: commit when the handler returns, roll back if it raises.

    Creating a session does no I/O, so it happens on the event loop; the commit or rollback (which does) runs
    in the thread pool, so each request pays one hop for it instead of one in and one out.
    """
    runtime: Runtime = request.app.state.runtime
    factory = runtime.read_session_factory if request.method in READ_METHODS else runtime.session_factory
    session = factory()
    try:
        yield session
    except DomainError as exc:
        await run_in_threadpool(_finish, session, commit=exc.commits)
        raise
    except BaseException:
        await run_in_threadpool(_finish, session, commit=False)
        raise
    await run_in_threadpool(_finish, session, commit=True)


def _finish(session: Session, *, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


async def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
# scope="function": the commit happens before the response is sent, so a client never sees success for a
# write that then fails to commit.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
ClientAddressDep = Annotated[str, Depends(client_address)]
