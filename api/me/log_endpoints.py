"""The customer's view of the policy log: who used my data, for what, when, and was it allowed."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import Query

from api.deps import ReadSessionDep, RuntimeDep
from api.me.auth import CurrentConsumer
from api.me.log_schemas import LogEntryRead, MyLogRead, MyTreeHead
from api.params import BigSerialCursor
from api.problems import problem_responses
from api.routing import api_router
from api.tree_heads import FreshTreeHead
from infomediary.policylog.customer_view import customer_log

router = api_router(prefix="/v1/me", tags=["consumer"], responses=problem_responses(401))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@router.get(
    "/log",
    response_model=MyLogRead,
    responses=problem_responses(422),
    summary="Every policy-log entry about me, in plain words, each with its inclusion proof",
    dependencies=[FreshTreeHead],
)
def my_log(
    consumer: CurrentConsumer,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    cursor: BigSerialCursor = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> MyLogRead:
    log = customer_log(
        session, runtime, consumer.customer_id, after=int(cursor) if cursor else -1, limit=limit
    )
    head = log.head
    return MyLogRead(
        entries=[
            LogEntryRead(
                leaf_index=line.leaf_index,
                at=line.at,
                kind=line.kind,
                text=line.text,
                supplier_id=line.supplier_id,
                decision=line.decision,
                leaf_input=_b64(line.entry),
                audit_path=[_b64(p) for p in line.audit_path] if line.audit_path is not None else None,
            )
            for line in log.lines
        ],
        next_cursor=str(log.next_cursor) if log.next_cursor is not None else None,
        tree_head=MyTreeHead(
            tree_size=head.tree_size, sha256_root_hash=_b64(head.root_hash), checkpoint=head.checkpoint
        )
        if head
        else None,
    )
