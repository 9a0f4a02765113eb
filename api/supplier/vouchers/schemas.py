"""Bodies of the voucher redemption route: the code in, the value out, and nothing about the customer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from infomediary.text import ONE_LINE
from infomediary.vouchers import code


def _well_formed(value: str) -> str:
    code.parse(value)  # MalformedCode is a ValueError: a 422 pointing at the field
    return value


VoucherCode = Annotated[
    str,
    StringConstraints(min_length=1, max_length=code.MAX_TYPED_LENGTH, pattern=ONE_LINE),
    AfterValidator(_well_formed),
]


class RedemptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: VoucherCode = Field(
        description="As the customer gives it; case, spaces and dashes do not matter.",
        examples=["VCH-0ABC-DEFG-HJKM-NPQR-STVW-XYZ0-1234"],
    )


class RedemptionRead(BaseModel):
    """All a supplier learns of a redemption: a valid voucher of this value was spent here, now."""

    voucher_id: str = Field(description="The broker's id of the voucher, for your books; it names nobody.")
    value: int = Field(description="Integer credits, paid to your ledger balance.")
    currency: str = Field(default="credits", description="Always `credits`.")
    redeemed_at: datetime
