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
from infomediary.policylog import treehead


async def fresh_tree_head(request: Request, runtime: RuntimeDep) -> None:
    unit: UnitOfWork = request.scope[UNIT_OF_WORK]
    if unit.writes:
        raise RuntimeError(f"{request.url.path}: a fresh tree head needs a read route")
    # Decided through the request's own read session, never a second one: a request that holds a pooled
    # connection (its authentication has read through it) while it waits for another from the same pool
    # deadlocks the pool once as many requests as it has connections do so together. Measured: the
    # customer's log alone, 16 in flight, answered 503 after the pool's timeout.
    reading = unit.session
    found = await reading.run(treehead.state, runtime)
    if not found.due:
        return
    # End the read transaction before signing. Its connection goes back to the pool, so the request holds
    # one connection at a time; and on SQLite, where a read transaction's snapshot is fixed at its first
    # statement, the next statement takes a snapshot that holds the new head and its nodes.
    await reading.commit()
    async with request_sessions(request).writes() as writing, writing.begin():
        await writing.run(treehead.refresh, runtime)


FreshTreeHead = Depends(fresh_tree_head)
