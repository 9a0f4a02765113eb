"""The calling supplier's own record."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Security

from api.bearer import supplier
from api.problems import problem_responses
from api.supplier.schemas import SupplierRead
from infomediary.oauth.bearer import Principal

router = APIRouter(prefix="/v1/supplier", tags=["supplier"], responses=problem_responses(401, 403))
CurrentSupplier = Annotated[Principal, Security(supplier)]


@router.get("", response_model=SupplierRead, summary="The calling supplier's own record")
async def read_supplier(caller: CurrentSupplier) -> SupplierRead:
    # The authenticated principal already carries its own record: no second query, no thread hop.
    return SupplierRead(
        id=caller.owner_id,
        name=caller.owner_name,
        status=caller.owner_status,
        created_at=caller.owner_created_at,
        scopes=sorted(caller.scopes),
    )
