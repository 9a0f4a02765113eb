"""A fresh signed tree head before a route reads the policy log against it.

Routes that show proofs (the customer's log, the dashboard, the auditor's head and inclusion walkthrough)
list `FreshTreeHead` among their route dependencies, which FastAPI solves before any other: a head due is
signed in a writing transaction of its own, committed before the request's session takes its snapshot, so
the proofs the request computes are against a head whose nodes that snapshot holds (on SQLite a read
transaction's snapshot is fixed at its first statement, authentication's).

It runs before authentication, so an anonymous caller can cause a head to be signed: at most one per
`log_tree_head_interval_seconds`, and only when the log grew, work the log owes anyway. Deciding costs one
read (the latest head and the log's size); nothing is remembered in the process, which could go stale (a
restore, another process's head).
"""

from __future__ import annotations

from fastapi import Depends, Request

from api.deps import RuntimeDep, request_sessions
from infomediary.policylog import treehead


async def fresh_tree_head(request: Request, runtime: RuntimeDep) -> None:
    sessions = request_sessions(request)
    async with sessions.reads() as reading:
        found = await reading.run(treehead.state, runtime)
    if found.due:
        async with sessions.writes() as writing, writing.begin():
            await writing.run(treehead.refresh, runtime)


FreshTreeHead = Depends(fresh_tree_head)
