"""Global Privacy Control: the `/.well-known/gpc.json` resource, and the `Sec-GPC: 1` request header, which
records the calling consumer's opt-out of sale and sharing (in the request's transaction, and logged)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header

from api.deps import RuntimeDep, SessionDep
from api.me.auth import CurrentConsumer
from infomediary.consents import gpc

# The date this service started honouring the signal as documented here (GPC spec, section 3.2).
GPC_LAST_UPDATE = "2026-11-23"

router = APIRouter(tags=["oauth"])


@router.get("/.well-known/gpc.json", summary="Global Privacy Control support (GPC specification)")
def gpc_support() -> dict[str, object]:
    return {"gpc": True, "lastUpdate": GPC_LAST_UPDATE}


def record_gpc(
    consumer: CurrentConsumer,
    session: SessionDep,
    runtime: RuntimeDep,
    sec_gpc: Annotated[str | None, Header(alias="Sec-GPC", include_in_schema=False)] = None,
) -> None:
    """Consumer routes depend on this: `Sec-GPC: 1` is an opt-out of sale and sharing (DESIGN, rule 3)."""
    if sec_gpc is not None and sec_gpc.strip() == "1":
        gpc.record_signal(session, runtime, consumer.customer_id)


GpcDep = Depends(record_gpc)
