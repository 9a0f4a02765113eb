"""Bodies of the supplier-request routes. The customer appears only as this supplier's pseudonym."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from consent.vocabulary import Category, Purpose, ReleaseKind
from infomediary.text import Credits, Pseudonym


class RequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pseudonym: Pseudonym
    purpose: Purpose
    categories: list[Category] = Field(min_length=1, max_length=len(Category))
    release_kind: ReleaseKind = ReleaseKind.PSEUDONYMOUS_SLICE
    price_offered: Credits = Field(default=0, description="Credits offered.")
    expires_at: datetime


class RequestRead(BaseModel):
    id: str
    pseudonym: str
    purpose: Purpose
    categories: list[Category]
    release_kind: ReleaseKind
    price_offered: int
    expires_at: datetime
    status: str = Field(description="pending, accepted, refused, refused_by_terms or expired.")
    created_at: datetime
    answered_at: datetime | None
