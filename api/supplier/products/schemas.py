"""Schemas of the catalog and business rule routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema

from infomediary.products.items import MAX_ROWS, CatalogItem
from infomediary.profiles.records import ItemRef
from infomediary.text import Line

# A row is checked on its own (`infomediary.products.items.validate_rows`), so that every bad row is reported
# at once; the document shows the shape each must have.
CatalogRow = Annotated[dict[str, Any], WithJsonSchema(CatalogItem.model_json_schema())]


class CatalogReplace(BaseModel):
    """The whole catalog: items not listed are removed. Bad rows are listed by index."""

    model_config = ConfigDict(extra="forbid")

    items: list[CatalogRow] = Field(
        max_length=MAX_ROWS,
        description="Rows of {id, title, categories, price (minor units), currency}.",
    )


class CatalogUpdate(BaseModel):
    """An incremental change: rows to insert or change, ids to remove."""

    model_config = ConfigDict(extra="forbid")

    upsert: list[CatalogRow] = Field(default_factory=list, max_length=MAX_ROWS)
    delete: list[ItemRef] = Field(default_factory=list, max_length=MAX_ROWS)


class UploadRead(BaseModel):
    created: int
    updated: int
    deleted: int
    total: int


class CatalogItemRead(BaseModel):
    id: str
    title: str
    categories: list[str]
    price: int
    currency: str
    updated_at: datetime


class CatalogPage(BaseModel):
    items: list[CatalogItemRead]
    next_cursor: str | None


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[Line, StringConstraints(min_length=1, strip_whitespace=True)]
    enabled: bool = True
    rule: dict[str, Any] = Field(
        description="The rule document: {when, then}; see the README's rule language."
    )


class RuleRead(BaseModel):
    id: str
    name: str
    enabled: bool
    rule: dict[str, Any]
    categories: list[str] = Field(
        description="Data categories the rule reads: it fires only where consented."
    )
    created_at: datetime
    updated_at: datetime


class RulesRead(BaseModel):
    items: list[RuleRead]
