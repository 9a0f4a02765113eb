"""Request body of the slice route (the response is NDJSON, one row per line)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from consent.vocabulary import Purpose
from infomediary.text import Credits, Key


class SliceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: Purpose = Field(description="The declared purpose the slice is for.")
    fields: list[Key] = Field(
        min_length=1,
        max_length=30,
        description="Sliceable profile fields (identity fields are refused), e.g. birth_date, postal_code.",
        examples=[["birth_date", "postal_code", "interests"]],
    )
    max_price_per_customer: Credits = Field(default=0, description="Credits offered per included customer.")
