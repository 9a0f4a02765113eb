"""Ledger postings as both the customer's rewards and the supplier's ledger show them, with paging."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, Field

from infomediary.ledger.statement import Statement

Limit = Annotated[int, Query(ge=1, le=200)]


class PostingRead(BaseModel):
    id: str
    transaction_id: str
    kind: str = Field(
        description=(
            "view_reward, acceptance_reward, offer_budget, offer_refund, data_release, penalty, top_up, "
            "adjustment, voucher_issued, voucher_redeemed or voucher_refund."
        )
    )
    amount: int = Field(description="Signed integer credits: positive is paid to the caller.")
    created_at: datetime
    counterparties: list[str] = Field(
        description="Suppliers by name, 'broker', and customers only ever as 'customer'."
    )


def postings_of(found: Statement) -> list[PostingRead]:
    return [
        PostingRead(
            id=str(line.id),
            transaction_id=line.transaction_id,
            kind=line.kind,
            amount=line.amount,
            created_at=line.created_at,
            counterparties=line.counterparties,
        )
        for line in found.lines
    ]
