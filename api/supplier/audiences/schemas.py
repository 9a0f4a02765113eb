"""Request and response bodies of the audience routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from consent.vocabulary import Purpose
from infomediary.audiences.predicate import Predicate, check_shape


class AudienceCountRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: Purpose = Field(description="The declared purpose the count is for.")
    predicate: Predicate = Field(
        description=(
            'A JSON predicate: {"and": [...]}, {"or": [...]}, {"not": {...}}, {"eq": [dimension, value]}, '
            '{"in": [dimension, [values]]}, {"range": [dimension, low, high]}; dimensions from '
            "GET /v1/audiences/dimensions."
        ),
        examples=[{"and": [{"eq": ["age_band", "25-34"]}, {"in": ["postal_prefix", ["75", "69"]]}]}],
    )

    @model_validator(mode="before")
    @classmethod
    def _bounded(cls, data: Any) -> Any:
        # Checked on the raw JSON, before parsing recurses into it.
        if isinstance(data, dict) and "predicate" in data:
            check_shape(data["predicate"])
        return data


class AudienceCountRead(BaseModel):
    count: int | None = Field(
        description="The noisy count, or null when suppressed below the minimum cohort."
    )
    suppressed: bool
    minimum_cohort: int
    epsilon_charged: float = Field(description="Epsilon this answer spent (0 for a cached answer).")
    epsilon_remaining: float = Field(description="Epsilon left in this budget period.")
    cached: bool = Field(description="True when this is the stored answer to the same query.")
    budget_resets_at: datetime


class DimensionRead(BaseModel):
    key: str
    category: str
    description: str
    values: list[str] | list[int] | None = Field(description="The domain; null for postal_prefix (2 chars).")
    ordered: bool = Field(description="Whether `range` applies.")


class DimensionsRead(BaseModel):
    dimensions: list[DimensionRead]
    max_depth: int
    max_conditions: int
