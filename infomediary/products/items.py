"""One catalog row as a supplier sends it, and the per-row validation of a bulk upload.

A bulk upload is validated row by row, so the supplier learns every bad row at once (index, field, reason)
rather than the first; an upload with any bad row stores nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from infomediary.products.errors import CatalogRejected
from infomediary.profiles.records import Currency, ItemRef
from infomediary.text import Line, MinorUnits

MAX_ROWS = 5_000
MAX_CATEGORIES = 10
MAX_REPORTED_ERRORS = 100

CategoryKey = Annotated[str, StringConstraints(max_length=40, pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]


class CatalogItem(BaseModel):
    """An item: its id (as customers' activity names it), title, catalog categories and price."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: ItemRef
    title: Annotated[Line, StringConstraints(min_length=1, strip_whitespace=True)]
    categories: list[CategoryKey] = Field(default_factory=list, max_length=MAX_CATEGORIES)
    price: MinorUnits = Field(description="Minor units (e.g. cents).")
    currency: Currency


def validate_rows(rows: Sequence[Any], *, pointer: str = "/body/items") -> list[CatalogItem]:
    """Every row valid and ids unique, or `CatalogRejected` listing the bad rows (at most 100 reported)."""
    items: list[CatalogItem] = []
    errors: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(rows):
        try:
            item = CatalogItem.model_validate(raw)
        except ValidationError as exc:
            errors.extend(
                {
                    "row": index,
                    "pointer": f"{pointer}/{index}" + "".join(f"/{p}" for p in e["loc"]),
                    "reason": e["msg"],
                }
                for e in exc.errors()
            )
            continue
        if item.id in seen:
            errors.append(
                {"row": index, "pointer": f"{pointer}/{index}/id", "reason": f"repeats row {seen[item.id]}"}
            )
            continue
        seen[item.id] = index
        items.append(item)
    if errors:
        rows_bad = sorted({e["row"] for e in errors})
        raise CatalogRejected(
            f"{len(rows_bad)} of {len(rows)} rows are not valid",
            rows=rows_bad[:MAX_REPORTED_ERRORS],
            errors=errors[:MAX_REPORTED_ERRORS],
        )
    return items
