"""Bodies of the supplier's privacy-policy routes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from consent.vocabulary import Category, Purpose


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purposes: list[Purpose] = Field(min_length=1, max_length=len(Purpose))
    categories: list[Category] = Field(min_length=1, max_length=len(Category))
    policy_url: HttpUrl | None = Field(default=None, description="The full text of the policy.")


class PolicyRead(BaseModel):
    version: int
    purposes: list[Purpose]
    categories: list[Category]
    policy_url: str | None
    published_at: datetime
    consent_floor_version: int = Field(description="Consents given under older versions are invalidated.")


class PolicyPublished(BaseModel):
    policy: PolicyRead
    widened: bool
    invalidated_consents: int


class PolicyHistory(BaseModel):
    current: PolicyRead | None
    history: list[PolicyRead]
