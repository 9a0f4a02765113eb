"""The supplier's ledger: balance, credit line and postings; customers appear only as 'customer'."""

from __future__ import annotations

from api.bearer import CurrentSupplier
from api.deps import ReadSessionDep, RuntimeDep
from api.params import SerialCursor
from api.postings import Limit, postings_of
from api.problems import problem_responses
from api.routing import api_router
from api.supplier.schemas import SupplierLedgerRead
from infomediary.ledger.models import OwnerKind
from infomediary.ledger.statement import statement

router = api_router(prefix="/v1/supplier", tags=["supplier"], responses=problem_responses(401, 403))


@router.get(
    "/ledger",
    response_model=SupplierLedgerRead,
    responses=problem_responses(422),
    summary="The calling supplier's balance, credit line and postings (paged, newest first)",
)
def read_ledger(
    caller: CurrentSupplier,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    cursor: SerialCursor = None,
    limit: Limit = 50,
) -> SupplierLedgerRead:
    found = statement(session, OwnerKind.SUPPLIER, caller.owner_id, cursor=cursor, limit=limit)
    return SupplierLedgerRead(
        balance=found.balance,
        credit_line=runtime.settings.supplier_credit_line,
        postings=postings_of(found),
        next_cursor=found.next_cursor,
    )
