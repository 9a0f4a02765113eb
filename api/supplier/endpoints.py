"""The calling supplier's own record."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Security

from api.bearer import supplier
from api.deps import SessionDep
from api.problems import problem_responses
from api.supplier.schemas import SupplierRead
from infomediary.oauth.bearer import Principal
from infomediary.suppliers import service

router = APIRouter(prefix="/v1/supplier", tags=["supplier"], responses=problem_responses(401, 403))
CurrentSupplier = Annotated[Principal, Security(supplier)]


@router.get("", response_model=SupplierRead, summary="The calling supplier's own record")
def read_supplier(caller: CurrentSupplier, session: SessionDep) -> SupplierRead:
    view = service.get_own(session, caller.owner_id)
    return SupplierRead(
        id=view.id,
        name=view.name,
        status=view.status,
        created_at=view.created_at,
        scopes=sorted(caller.scopes),
    )
