"""The customer's own activity: implicit signals (views, searches, cart changes, ratings) and purchases.

Typed and bounded: every string has a maximum length, a batch at most ``MAX_BATCH`` records, a purchase at
most ``MAX_ITEMS`` items. Amounts are integers in the currency's minor unit (cents), never floats.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from infomediary.text import Line, MinorUnits

MAX_BATCH = 500
MAX_ITEMS = 100
RECORD_SCHEMA_VERSION = 1
KINDS = ("view", "search", "cart_add", "cart_remove", "rating", "purchase")

ItemRef = Annotated[
    str,
    StringConstraints(min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$"),
    Field(description="The item's reference in a supplier's catalog, e.g. `sku:12345` (printable ASCII)."),
]
Currency = Annotated[
    str, StringConstraints(max_length=3, pattern=r"^[A-Z]{3}$"), Field(description="ISO 4217 code.")
]


def _not_in_future(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must carry a time zone (RFC 3339)")
    value = value.astimezone(UTC)
    # A little slack for clocks that run ahead of the server's.
    if value > datetime.now(UTC) + timedelta(minutes=5):
        raise ValueError("must not be in the future")
    if value.year < 2000:
        raise ValueError("must be after 2000-01-01")
    return value


OccurredAt = Annotated[datetime, AfterValidator(_not_in_future), Field(description="RFC 3339, with offset.")]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    occurred_at: OccurredAt


class View(_Record):
    kind: Literal["view"]
    item: ItemRef


class Search(_Record):
    kind: Literal["search"]
    query: Annotated[Line, StringConstraints(min_length=1)]
    item: ItemRef | None = Field(default=None, description="The result chosen, if any.")


class CartAdd(_Record):
    kind: Literal["cart_add"]
    item: ItemRef
    quantity: int = Field(default=1, ge=1, le=1000)


class CartRemove(_Record):
    kind: Literal["cart_remove"]
    item: ItemRef
    quantity: int = Field(default=1, ge=1, le=1000)


class Rating(_Record):
    kind: Literal["rating"]
    item: ItemRef
    value: int = Field(ge=1, le=5)


class PurchaseItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    item: ItemRef
    quantity: int = Field(default=1, ge=1, le=1000)
    unit_amount: MinorUnits | None = Field(default=None, description="Minor units.")


class Purchase(_Record):
    kind: Literal["purchase"]
    amount: MinorUnits = Field(description="Total in the currency's minor unit (e.g. cents).")
    currency: Currency
    items: list[PurchaseItem] = Field(min_length=1, max_length=MAX_ITEMS)


ActivityIn = Annotated[View | Search | CartAdd | CartRemove | Rating | Purchase, Field(discriminator="kind")]


class ActivityBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    records: list[ActivityIn] = Field(min_length=1, max_length=MAX_BATCH)
