"""Bodies of the customer's voucher routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from infomediary.text import Id
from infomediary.vouchers.service import MAX_DAYS, MAX_VALUE, MIN_VALUE, VoucherView


class VoucherCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    supplier_id: Id = Field(description="The supplier where the voucher can be spent, and only there.")
    value: Annotated[int, Field(ge=MIN_VALUE, le=MAX_VALUE)] = Field(
        description="Integer credits, from your balance."
    )
    days: Annotated[int, Field(ge=1, le=MAX_DAYS)] = Field(
        default=30, description="Valid until the end of this many days from today (midnight UTC)."
    )


class VoucherRead(BaseModel):
    id: str
    supplier_id: str
    supplier_name: str
    value: int = Field(description="Integer credits.")
    expires_at: datetime
    state: str = Field(description="active, redeemed or expired (an expired voucher's value is yours again).")
    redeemed_at: datetime | None
    refunded_at: datetime | None = Field(description="When an expired voucher's value came back to you.")
    code: str | None = Field(
        description="What you give at the supplier's checkout, while the voucher can be spent. Whoever "
        "has it can spend it: keep it like cash."
    )


class VouchersRead(BaseModel):
    items: list[VoucherRead]
    next_cursor: str | None


def voucher_read(view: VoucherView) -> VoucherRead:
    return VoucherRead(
        id=view.id,
        supplier_id=view.supplier_id,
        supplier_name=view.supplier_name,
        value=view.value,
        expires_at=view.expires_at,
        state=view.state,
        redeemed_at=view.redeemed_at,
        refunded_at=view.refunded_at,
        code=view.code,
    )
