"""The calling supplier's own record and dashboard figures."""

from __future__ import annotations

from typing import Annotated

from fastapi import Security

from api.bearer import supplier
from api.deps import ReadSessionDep, RuntimeDep
from api.problems import problem_responses
from api.routing import api_router
from api.supplier.schemas import SupplierRead
from infomediary import supplier_dashboard
from infomediary.database import utcnow
from infomediary.oauth.bearer import Principal

router = api_router(prefix="/v1/supplier", tags=["supplier"], responses=problem_responses(401, 403))
CurrentSupplier = Annotated[Principal, Security(supplier)]


@router.get(
    "",
    response_model=SupplierRead,
    summary="The calling supplier's own record and dashboard: status, strikes, epsilon left, balance",
)
def read_supplier(caller: CurrentSupplier, session: ReadSessionDep, runtime: RuntimeDep) -> SupplierRead:
    # The principal carries the record and status; the figures are one more query (see `supplier_dashboard`).
    shown = supplier_dashboard.figures(
        session, runtime.settings, caller.owner_id, caller.owner_status, utcnow()
    )
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
