"""Bodies of the supplier offer routes. Responses carry thresholded counts, never customer ids."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from consent.vocabulary import Purpose
from infomediary.audiences.predicate import Predicate, check_shape
from infomediary.profiles.records import Currency
from infomediary.text import Credits, Text


class DiscountRule(BaseModel):
    """The business rule "an order over `min_order_amount` earns `discount_percent` off", shown as is."""

    model_config = ConfigDict(extra="forbid")

    min_order_amount: int = Field(ge=0, le=1_000_000_000, description="In minor units (cents).")
    currency: Currency
    discount_percent: int = Field(ge=1, le=100)


class OfferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content: Annotated[
        Text, Field(min_length=1, max_length=2000, description="What the customer reads; no personal data.")
    ]
    purpose: Purpose
    predicate: Predicate = Field(
        description="The audience, in the predicate language of POST /v1/audiences/count.",
        examples=[{"eq": ["age_band", "25-34"]}],
    )
    reward_per_view: Credits = Field(default=0, description="Credits per first view.")
    reward_per_acceptance: Credits = Field(default=0, description="Credits per acceptance.")
    releases_identity: bool = Field(
        default=False, description="Accepting releases name and email to you, if the customer confirms."
    )
    rule: DiscountRule | None = None
    expires_at: datetime
    budget_cap: int = Field(ge=0, le=1_000_000_000_000, description="Credits the rewards may spend at most.")

    @model_validator(mode="before")
    @classmethod
    def _bounded(cls, data: Any) -> Any:
        # Checked on the raw JSON, before parsing recurses into it.
        if isinstance(data, dict) and "predicate" in data:
            check_shape(data["predicate"])
        return data

    @model_validator(mode="after")
    def _aware(self) -> Self:
        if self.expires_at.tzinfo is None:
            raise ValueError("expires_at needs a time zone")
        return self


class OfferStatsRead(BaseModel):
    delivered: int | None = Field(
        description="Customers the offer reached, with noise; null when that is below minimum_cohort."
    )
    viewed: int | None
    accepted: int | None
    minimum_cohort: int


class ReleasedIdentityRead(BaseModel):
    pseudonym: str = Field(description="Your pseudonym for the customer who accepted and released identity.")
    given_name: str | None
    family_name: str | None
    email: str | None = Field(
        description=(
            "The customer's relay address for you, never her own: mail to it reaches her while her consent "
            "allows it, and stops when she switches it off."
        )
    )


class OfferRead(BaseModel):
    id: str
    purpose: Purpose
    expires_at: datetime
    budget_cap: int = Field(
        description="Paid in full when sent; what is spent is not shown (it would count)."
    )
    created_at: datetime
    withdrawn_at: datetime | None = Field(description="When you withdrew the offer; null if you did not.")
    closed: bool = Field(description="Withdrawn or expired, and its unspent budget refunded.")
    stats: OfferStatsRead
    released_identities: list[ReleasedIdentityRead]


class OfferSummaryRead(BaseModel):
    id: str
    content: str
    purpose: Purpose
    reward_per_view: int
    reward_per_acceptance: int
    releases_identity: bool
    expires_at: datetime
    budget_cap: int
    created_at: datetime
    stats: OfferStatsRead


class OfferList(BaseModel):
    offers: list[OfferSummaryRead]
    next_cursor: str | None
