"""Body of `GET /v1/me/consents/effective`: what each supplier may do now with her data, and why."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from consent.decision import Reason
from consent.vocabulary import Category, Purpose, ReleaseKind


class SupplierStanding(BaseModel):
    id: str
    name: str
    status: str = Field(
        description="`active`, `warned`, `throttled` or `suspended`. A suspended supplier may use nothing "
        "while suspended; the grid is what it could use if let back."
    )


class EffectiveCell(BaseModel):
    purpose: Purpose
    category: Category
    permitted: bool = Field(description="What this supplier gets now when it asks for this purpose and data.")
    reason: Reason = Field(description="The decision's reason code; `reasons` has it in plain words.")
    asked_price: int = Field(
        description="Credits you ask for this use (a price on your consent or a minimum-price term), 0 if "
        "none. With `price_too_low`, a supplier that pays at least this much is permitted."
    )
    consent_ids: list[str] = Field(description="Your consent records this answer rests on.")
    term_ids: list[str] = Field(description="Your standing terms this answer rests on.")
    changeable_by_consent: bool = Field(
        description="Whether a consent answer naming this supplier and this data (`POST /v1/me/consents`, "
        "or withdrawing the consent it rests on) turns this answer round. False where a rule above consent "
        "decides: your restriction, your standing terms, or the supplier's policy not declaring the use."
    )
    allow_keeps_price: int | None = Field(
        default=None,
        description='Where one click allows this use (the grid page\'s "Allow"), the price in credits it '
        "keeps: the one you last set on this supplier, purpose and data. Null: none, or no such click.",
    )
    allow_keeps_until: datetime | None = Field(
        default=None,
        description="Likewise, the expiry that click keeps, if it is still ahead. Null: none.",
    )


class SupplierGrid(BaseModel):
    supplier: SupplierStanding
    policy_version: int | None = Field(description="Its privacy policy in force; null: none published.")
    declared_purposes: list[Purpose] = Field(description="What its policy declares; nothing else is allowed.")
    declared_categories: list[Category]
    cells: list[EffectiveCell] = Field(
        description="Every purpose x every data category, purpose by purpose, in vocabulary order."
    )


class EffectivePage(BaseModel):
    items: list[SupplierGrid] = Field(description="Every supplier, whatever its status, by name.")
    next_cursor: str | None
    at: datetime = Field(description="When these decisions were made.")
    release_kind: ReleaseKind = Field(
        description="The form of use decided: data counted, shared under a pseudonym or matched to an offer "
        "are decided alike. Your identity is released only when you accept an offer or request that asks."
    )
    restricted: bool = Field(description="You restricted processing: every answer is no.")
    gpc_recorded_at: datetime | None = Field(
        description="When your Global Privacy Control signal was recorded (opt-out of sale and sharing)."
    )
    reasons: dict[str, str] = Field(description="Each reason code of the cells, in plain words.")
