"""Response bodies of the supplier's own routes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from api.postings import PostingRead


class SupplierRead(BaseModel):
    id: str
    name: str
    status: str
    created_at: datetime
    scopes: list[str]
    strikes: int = Field(description="Strikes recorded against the supplier, all time.")
    epsilon_remaining: float = Field(description="Audience-count epsilon left in the current budget period.")
    ledger_balance: int = Field(description="Integer credits; may go down to -credit_line.")
    credit_line: int


class SupplierLedgerRead(BaseModel):
    balance: int = Field(description="Integer credits.")
    credit_line: int = Field(description="How far below zero the balance may go.")
    postings: list[PostingRead]
    next_cursor: str | None
