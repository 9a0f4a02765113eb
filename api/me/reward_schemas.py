"""Response bodies of the customer's rewards view."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.postings import PostingRead


class RewardsRead(BaseModel):
    balance: int = Field(description="Integer credits.")
    postings: list[PostingRead]
    next_cursor: str | None
