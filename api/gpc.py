"""Global Privacy Control: the `/.well-known/gpc.json` resource, and the `Sec-GPC: 1` request header, which
records the calling consumer's opt-out of sale and sharing (logged with it, in one transaction)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from api.deps import RequestSessionDep, RuntimeDep, request_sessions
from api.me.auth import CurrentConsumer
from api.routing import api_router
from infomediary.database import AsyncWriteSession
from infomediary.flows import consent_changed

# The date this service started honouring the signal as documented here (GPC spec, section 3.2).
GPC_LAST_UPDATE = "2026-11-23"

router = api_router(tags=["oauth"])


@router.get("/.well-known/gpc.json", summary="Global Privacy Control support (GPC specification)")
def gpc_support() -> dict[str, object]:
    return {"gpc": True, "lastUpdate": GPC_LAST_UPDATE}


async def record_gpc(
    request: Request,
    consumer: CurrentConsumer,
    session: RequestSessionDep,
    runtime: RuntimeDep,
    sec_gpc: Annotated[str | None, Header(alias="Sec-GPC", include_in_schema=False)] = None,
) -> None:
    """Consumer routes depend on this: `Sec-GPC: 1` is an opt-out of sale and sharing (DESIGN, rule 3)."""
    if sec_gpc is None or sec_gpc.strip() != "1":
        return
    if isinstance(session, AsyncWriteSession):
        await session.run(consent_changed.record_gpc, runtime, consumer.customer_id)
        return
    # A read request's session cannot write (the database refuses it): the signal, with its log entry,
    # gets a transaction of its own, which stands whatever the request does.
    async with request_sessions(request).writes() as own, own.begin():
        await own.run(consent_changed.record_gpc, runtime, consumer.customer_id)


GpcDep = Depends(record_gpc)
