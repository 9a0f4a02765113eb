"""Bodies of the consumer offer routes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from api.accounts.schemas import SecondFactorCode
from infomediary.text import Secret


class DiscountRuleRead(BaseModel):
    min_order_amount: int = Field(description="In minor units (cents).")
    currency: str
    discount_percent: int
    summary: str = Field(examples=["An order over 50.00 EUR earns 10% off"])


class InboxOfferRead(BaseModel):
    id: str
    supplier_id: str
    supplier_name: str
    content: str
    purpose: str
    reward_per_view: int
    reward_per_acceptance: int
    releases_identity: bool = Field(
        description="Accepting (with your confirmation) gives your name and email."
    )
    rule: DiscountRuleRead | None
    expires_at: datetime
    state: str = Field(description="delivered, viewed or accepted.")
    delivered_at: datetime
    viewed_at: datetime | None
    accepted_at: datetime | None


class InboxOffersRead(BaseModel):
    items: list[InboxOfferRead]


class AcceptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    release_identity: bool = Field(
        default=False, description="Required (true) when the offer releases your identity to the supplier."
    )
    password: Secret | None = Field(
        default=None,
        description=(
            "Your current password, required with `release_identity` when the offer releases your identity: "
            "missing or wrong, 403 `reauthentication-failed`; repeated wrong ones count as failed logins "
            "(429 `login-throttled`)."
        ),
    )
    code: SecondFactorCode = None
