""" "Who used my data": the customer's policy-log entries in plain words, newest first, each marked when its
inclusion proof leads to the root of a tree head signed by the log's key. Same service as `/v1/me/log`.

Above the log, on its first page, the suppliers that know her by a stable pseudonym (one she handed over, or
the one her identity was released under): the `/v1/me/pseudonyms` list."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response

from api.deps import ReadSessionDep, RuntimeDep
from api.pages.auth import PageConsumer
from api.pages.rendering import render
from api.pages.routing import page_router
from api.tree_heads import FreshTreeHead
from infomediary.policylog.customer_view import customer_log, verified_leaves
from infomediary.pseudonyms import service as pseudonyms

router = page_router()
PAGE_SIZE = 50


@router.get("/log", dependencies=[FreshTreeHead])
def who_used_my_data(
    request: Request,
    consumer: PageConsumer,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    before: Annotated[int | None, Query(ge=0, le=10**18)] = None,
) -> Response:
    log = customer_log(
        session, runtime, consumer.customer_id, limit=PAGE_SIZE, before=before, newest_first=True
    )
    # On the first page only: the older pages continue the log, not the list.
    known_by = (
        [] if before is not None else pseudonyms.issued_to_suppliers(session, runtime, consumer.customer_id)
    )
    return render(
        request,
        "log.html",
        {
            "consumer": consumer,
            "lines": log.lines,
            "verified": verified_leaves(runtime, log),
            "head": log.head,
            "next_before": log.next_cursor,
            "known_by": known_by,
        },
    )
