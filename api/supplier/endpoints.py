"""The calling supplier's own record and dashboard figures."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.bearer import BearerHeader, bearer_token
from api.deps import RequestSessionDep, RuntimeDep
from api.problems import problem_responses
from api.routing import api_router
from api.supplier.schemas import SupplierRead
from infomediary import supplier_dashboard
from infomediary.database import utcnow
from infomediary.oauth.bearer import BearerAuthenticator, Principal
from infomediary.supplier_dashboard import Figures

router = api_router(prefix="/v1/supplier", tags=["supplier"], responses=problem_responses(401, 403))


async def caller_and_figures(
    request: Request, session: RequestSessionDep, header: BearerHeader, runtime: RuntimeDep
) -> tuple[Principal, Figures]:
    """The supplier's bearer check (as `api.bearer.supplier` makes it) and its dashboard figures, in one
    statement: the route is on the benchmarked path, and its figures are three index lookups."""
    authenticator: BearerAuthenticator = request.app.state.bearer
    return await session.run(
        supplier_dashboard.caller_and_figures, authenticator, bearer_token(header), runtime.settings, utcnow()
    )


@router.get(
    "",
    response_model=SupplierRead,
    summary="The calling supplier's own record and dashboard: status, strikes, epsilon left, balance",
)
async def read_supplier(
    found: Annotated[tuple[Principal, Figures], Depends(caller_and_figures)],
) -> SupplierRead:
    caller, shown = found
    return SupplierRead(
        id=caller.owner_id,
        name=caller.owner_name,
        status=caller.owner_status,
        created_at=caller.owner_created_at,
        scopes=sorted(caller.scopes),
        strikes=shown.strikes,
        epsilon_remaining=shown.epsilon_remaining,
        ledger_balance=shown.ledger_balance,
        credit_line=shown.credit_line,
    )
