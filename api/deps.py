"""Request-scoped dependencies shared by every router: the runtime and the transaction-owning session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from infomediary.errors import DomainError
from infomediary.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: commit when the handler returns, roll back if it raises."""
    runtime = get_runtime(request)
    factory = runtime.read_session_factory if request.method in READ_METHODS else runtime.session_factory
    with factory() as session:
        try:
            yield session
            session.commit()
        except DomainError as exc:
            session.commit() if exc.commits else session.rollback()
            raise
        except BaseException:
            session.rollback()
            raise


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
# scope="function": the commit happens before the response is sent, so a client never sees success for a
# write that then fails to commit.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
ClientAddressDep = Annotated[str, Depends(client_address)]
