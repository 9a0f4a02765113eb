"""Global Privacy Control on the pages: `Sec-GPC: 1` on any page a logged-in customer opens records her
opt-out of sale and sharing through the same flow as the API (`api.gpc`), and the page that follows says,
once, what it changed: the notice goes with the request that first recorded the signal."""

from __future__ import annotations

from fastapi import Depends, Request

from api.deps import RequestSessionDep, RuntimeDep
from api.gpc import record_signal, signalled
from api.pages.auth import optional_consumer
from api.pages.rendering import add_notice


async def honour_gpc(request: Request, session: RequestSessionDep, runtime: RuntimeDep) -> None:
    """Every consumer page depends on this (`api.pages.mount`)."""
    if not signalled(request):
        return
    # Looked up only when the signal is there (the page's own dependency looks her up again, in the same
    # transaction): a page without a logged-in customer, such as the log-in form, has no one to record it for.
    consumer = await optional_consumer(request, session)
    if consumer is not None and await record_signal(request, session, runtime, consumer.customer_id):
        add_notice(request, "gpc-recorded")


PageGpcDep = Depends(honour_gpc)
