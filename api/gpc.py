"""Global Privacy Control: the `/.well-known/gpc.json` resource, and the `Sec-GPC: 1` request header, which
records the calling consumer's opt-out of sale and sharing (logged with it, in one transaction)."""

from __future__ import annotations

from fastapi import Depends, Request

from api.deps import RequestSessionDep, RuntimeDep, request_sessions
from api.me.auth import CurrentConsumer
from api.routing import api_router
from infomediary.consents import gpc
from infomediary.database import AsyncWriteSession, RequestSession
from infomediary.flows import consent_changed
from infomediary.runtime import Runtime

# The date this service started honouring the signal as documented here (GPC spec, section 3.2).
GPC_LAST_UPDATE = "2026-11-23"

router = api_router(tags=["oauth"])


@router.get("/.well-known/gpc.json", summary="Global Privacy Control support (GPC specification)")
def gpc_support() -> dict[str, object]:
    return {"gpc": True, "lastUpdate": GPC_LAST_UPDATE}


def signalled(request: Request) -> bool:
    """Whether the request carries the signal: `Sec-GPC: 1` (GPC specification, section 3)."""
    return request.headers.get("sec-gpc", "").strip() == "1"


async def record_signal(
    request: Request, session: RequestSession, runtime: Runtime, customer_id: str
) -> bool:
    """Record the customer's opt-out of sale and sharing, with its log entry; True when newly recorded.

    On a request that writes, in the request's transaction. A read request's session cannot write (the
    database refuses it): the signal gets a transaction of its own, which stands whatever the request does,
    opened only when the signal is not in force yet, so a browser that sends it on every request does not
    queue every page view behind the writers."""
    if isinstance(session, AsyncWriteSession):
        return await session.run(consent_changed.record_gpc, runtime, customer_id)
    in_force, _ = await session.run(gpc.signal_of, customer_id)
    if in_force:
        return False
    async with request_sessions(request).writes() as own, own.begin():
        return await own.run(consent_changed.record_gpc, runtime, customer_id)


async def record_gpc(
    request: Request,
    consumer: CurrentConsumer,
    session: RequestSessionDep,
    runtime: RuntimeDep,
) -> None:
    """Consumer routes depend on this: `Sec-GPC: 1` is an opt-out of sale and sharing (DESIGN, rule 3)."""
    if signalled(request):
        await record_signal(request, session, runtime, consumer.customer_id)


GpcDep = Depends(record_gpc)
