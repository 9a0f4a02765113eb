"""Schemas of the recommendation routes (supplier) and the explanations (consumer)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from infomediary.audiences.predicate import Predicate
from infomediary.profiles.records import ItemRef
from infomediary.text import Id


class RecommendedItemRead(BaseModel):
    id: str
    title: str
    categories: list[str]
    price: int
    currency: str
    score: float = Field(description="Rank score after rules (higher first); not comparable across calls.")
    source: str = Field(description="als, item_item, popular (cold start) or rule (shown by a rule).")


class DiscountRead(BaseModel):
    percent: int
    item: str | None = Field(description="The item discounted, or null for the whole order.")


class RecommendationsRead(BaseModel):
    items: list[RecommendedItemRead]
    discounts: list[DiscountRead]
    rules_fired: list[str]


class AudienceRecommendationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    predicate: Predicate
    n: int = Field(default=10, ge=1, le=50)


class AudienceItemRead(BaseModel):
    id: str
    title: str
    categories: list[str]
    price: int
    currency: str


class AudienceRecommendationRead(BaseModel):
    items: list[AudienceItemRead] = Field(
        description=(
            "A differentially private selection of your catalog's items, the audience's favourites first "
            "(noisy top-k: an item may be missing or out of place; no scores are given)."
        )
    )
    selection: Literal["differentially_private_top_k"] = "differentially_private_top_k"
    suppressed: bool = Field(description="True when the audience is under the minimum cohort: no items then.")
    minimum_cohort: int
    audience_count: int | None = Field(description="The noisy audience count, null when suppressed.")
    epsilon_charged: float = Field(
        description="Epsilon this request spent (the count's and the selection's); 0 for a stored answer."
    )
    epsilon_remaining: float = Field(description="Epsilon left in the current budget period.")
    cached: bool = Field(description="True when the items are the period's stored answer, given again free.")
    budget_resets_at: datetime


class DriverRead(BaseModel):
    item: str
    title: str
    kinds: list[str] = Field(description="What you did with it: view, cart_add, rating, purchase ...")
    excluded: bool = Field(description="True when you removed it from what drives your recommendations.")


class ExplainedRead(BaseModel):
    item: str
    title: str
    because: list[str] = Field(description="Titles of your items that led to this one.")


class ExplanationRead(BaseModel):
    supplier_id: str
    personalisation: bool
    drivers: list[DriverRead]
    recommendations: list[ExplainedRead]


class ExclusionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    supplier_id: Id
    items: list[ItemRef] = Field(max_length=500, description="The whole list of items to leave out.")


class PersonalisationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool


class PersonalisationRead(BaseModel):
    supplier_id: str
    enabled: bool
