"""A fresh signed tree head before a route reads the policy log against it.

Routes that show proofs (the customer's log, the dashboard, the auditor's head and inclusion walkthrough)
list `FreshTreeHead` among their route dependencies: a head due is signed in a writing transaction of its
own, committed before the request reads the log, so the proofs the request computes are against a head
whose nodes its snapshot holds (on SQLite a read transaction's snapshot is fixed at its first statement).

Route dependencies are solved before the endpoint's, so it may run before the caller is authenticated (on
the auditor's routes, the dashboard's welcome page): an anonymous caller can cause a head to be signed, at
most one per `log_tree_head_interval_seconds` and only when the log grew, work the log owes anyway.
Deciding costs one read (the latest head and the log's size); nothing is remembered in the process, which
could go stale (a restore, another process's head).
"""

from __future__ import annotations

from fastapi import Depends, Request

from api.deps import UNIT_OF_WORK, RuntimeDep, UnitOfWork, request_sessions
from infomediary.database import AsyncWriteSession
from infomediary.policylog import treehead


async def fresh_tree_head(request: Request, runtime: RuntimeDep) -> None:
    sessions = request_sessions(request)
    async with sessions.reads() as reading:
        found = await reading.run(treehead.state, runtime)
    if not found.due:
        return
    async with sessions.writes() as writing, writing.begin():
        await writing.run(treehead.refresh, runtime)
    # A dependency solved earlier (a router's: the consumer's authentication, the GPC signal) may already
    # have read through the request's session. On SQLite its snapshot is then older than the head: end that
    # read transaction, so the next statement takes a snapshot that holds the head and its nodes.
    unit: UnitOfWork = request.scope[UNIT_OF_WORK]
    current = unit.opened
    if current is not None and current.in_transaction():
        if isinstance(current, AsyncWriteSession):
            raise RuntimeError(f"{request.url.path}: a fresh tree head needs a read route")
        await current.commit()


FreshTreeHead = Depends(fresh_tree_head)
