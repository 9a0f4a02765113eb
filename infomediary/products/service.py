"""The supplier's catalog: replace it whole, update it incrementally, list it with a cursor.

Every write is one transaction (the caller's), so a rejected upload changes nothing. Only the supplier's
own items are ever read or written: every query is scoped by supplier id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import Session

from infomediary.database import WriteSession, utcnow
from infomediary.products.errors import CatalogRejected, CatalogTooLarge
from infomediary.products.items import CatalogItem, validate_rows
from infomediary.products.models import CatalogItemRow
from infomediary.runtime import Runtime
from infomediary.suppliers import service as suppliers

# Ids per IN clause: under every backend's bound-parameter limit.
_BATCH = 500


@dataclass(frozen=True)
class ItemView:
    id: str
    title: str
    categories: list[str]
    price: int
    currency: str
    updated_at: datetime


@dataclass(frozen=True)
class UploadResult:
    created: int
    updated: int
    deleted: int
    total: int


@dataclass(frozen=True)
class Page:
    items: list[ItemView]
    next_cursor: str | None


def view(row: CatalogItemRow) -> ItemView:
    return ItemView(
        id=row.item_id,
        title=row.title,
        categories=row.categories.split() if row.categories else [],
        price=row.price,
        currency=row.currency,
        updated_at=row.updated_at,
    )


def replace(session: WriteSession, runtime: Runtime, supplier_id: str, rows: Sequence[Any]) -> UploadResult:
    """The catalog becomes exactly `rows`: items not listed are removed."""
    items = validate_rows(rows)
    _check_size(runtime, len(items))
    # Uploads take turns: each reads which items exist, inserts the rest and checks the total against the
    # limit; two at once would insert the same new item (a primary-key violation) or both pass the limit.
    suppliers.take_turns(session, supplier_id)
    existing = set(
        session.scalars(select(CatalogItemRow.item_id).where(CatalogItemRow.supplier_id == supplier_id))
    )
    keep = {item.id for item in items}
    gone = sorted(existing - keep)
    _delete(session, supplier_id, gone)
    created, updated = _upsert(session, supplier_id, items)
    return UploadResult(created, updated, len(gone), count(session, supplier_id))


def update(
    session: WriteSession, runtime: Runtime, supplier_id: str, upsert: Sequence[Any], remove: Sequence[str]
) -> UploadResult:
    """Insert or change the `upsert` rows and remove the `remove` ids; other items stay as they are."""
    items = validate_rows(upsert, pointer="/body/upsert")
    clash = sorted({item.id for item in items} & set(remove))
    if clash:
        raise CatalogRejected(
            "an item cannot be both upserted and deleted",
            errors=[
                {"pointer": "/body/delete", "reason": f"{item_id!r} is also upserted"} for item_id in clash
            ],
        )
    suppliers.take_turns(session, supplier_id)  # uploads take turns, as in `replace`
    deleted = _delete(session, supplier_id, list(dict.fromkeys(remove)))
    created, changed = _upsert(session, supplier_id, items)
    total = count(session, supplier_id)
    _check_size(runtime, total)
    return UploadResult(created, changed, deleted, total)


def page(session: Session, supplier_id: str, *, cursor: str | None, limit: int) -> Page:
    """Items in id order after `cursor` (the last id of the previous page)."""
    query = select(CatalogItemRow).where(CatalogItemRow.supplier_id == supplier_id)
    if cursor:
        query = query.where(CatalogItemRow.item_id > cursor)
    rows = session.scalars(query.order_by(CatalogItemRow.item_id).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return Page([view(r) for r in rows], rows[-1].item_id if more and rows else None)


def count(session: Session, supplier_id: str) -> int:
    return int(session.scalar(select(func.count()).where(CatalogItemRow.supplier_id == supplier_id)) or 0)


# Built once, plain columns rather than ORM objects: `items_of` runs on every recommendation request, where
# building the select and filling the identity map cost more than the query itself.
_c = CatalogItemRow
_ITEMS = select(_c.item_id, _c.title, _c.categories, _c.price, _c.currency, _c.updated_at).where(
    _c.supplier_id == bindparam("supplier_id")
)
_ITEMS_AMONG = _ITEMS.where(_c.item_id.in_(bindparam("item_ids", expanding=True)))


class Listing(NamedTuple):
    """What a recommendation shows of an item: `ItemView` without the update time (a lighter read)."""

    id: str
    title: str
    categories: list[str]
    price: int
    currency: str


_LISTINGS_AMONG = select(_c.item_id, _c.title, _c.categories, _c.price, _c.currency).where(
    _c.supplier_id == bindparam("supplier_id"), _c.item_id.in_(bindparam("item_ids", expanding=True))
)


def listings_of(session: Session, supplier_id: str, item_ids: Sequence[str]) -> dict[str, Listing]:
    """Those of `item_ids` that are the supplier's items, by id, as `Listing`s: for every recommendation
    request, where building frozen views and converting update times was a measurable share."""
    out: dict[str, Listing] = {}
    ids = list(dict.fromkeys(item_ids))
    for start in range(0, len(ids), _BATCH):
        params = {"supplier_id": supplier_id, "item_ids": ids[start : start + _BATCH]}
        for item_id, title, categories, price, currency in session.execute(_LISTINGS_AMONG, params):
            out[item_id] = Listing(item_id, title, categories.split() if categories else [], price, currency)
    return out


def _view_of(row: Any) -> ItemView:
    return ItemView(
        id=row.item_id,
        title=row.title,
        categories=row.categories.split() if row.categories else [],
        price=row.price,
        currency=row.currency,
        updated_at=row.updated_at,
    )


def items_of(
    session: Session, supplier_id: str, item_ids: Sequence[str] | None = None
) -> dict[str, ItemView]:
    """The supplier's items (all, or those of `item_ids` that exist), by id."""
    if item_ids is None:
        return {r.item_id: _view_of(r) for r in session.execute(_ITEMS, {"supplier_id": supplier_id})}
    out: dict[str, ItemView] = {}
    ids = list(dict.fromkeys(item_ids))
    for start in range(0, len(ids), _BATCH):
        params = {"supplier_id": supplier_id, "item_ids": ids[start : start + _BATCH]}
        out.update({r.item_id: _view_of(r) for r in session.execute(_ITEMS_AMONG, params)})
    return out


def _check_size(runtime: Runtime, total: int) -> None:
    limit = runtime.settings.catalog_max_items
    if total > limit:
        raise CatalogTooLarge(f"a catalog holds at most {limit} items; this one would hold {total}")


def _delete(session: WriteSession, supplier_id: str, item_ids: list[str]) -> int:
    deleted = 0
    for start in range(0, len(item_ids), _BATCH):
        result = session.execute(
            delete(CatalogItemRow).where(
                CatalogItemRow.supplier_id == supplier_id,
                CatalogItemRow.item_id.in_(item_ids[start : start + _BATCH]),
            )
        )
        deleted += int(result.rowcount)  # type: ignore[attr-defined]
    return deleted


def _upsert(session: WriteSession, supplier_id: str, items: list[CatalogItem]) -> tuple[int, int]:
    now = utcnow()
    current = {
        r.item_id: r
        for start in range(0, len(items), _BATCH)
        for r in session.scalars(
            select(CatalogItemRow).where(
                CatalogItemRow.supplier_id == supplier_id,
                CatalogItemRow.item_id.in_([i.id for i in items[start : start + _BATCH]]),
            )
        )
    }
    created = updated = 0
    for item in items:
        categories = " ".join(dict.fromkeys(item.categories))
        row = current.get(item.id)
        if row is None:
            session.add(
                CatalogItemRow(
                    supplier_id=supplier_id,
                    item_id=item.id,
                    title=item.title,
                    categories=categories,
                    price=item.price,
                    currency=item.currency,
                    updated_at=now,
                )
            )
            created += 1
        elif (row.title, row.categories, row.price, row.currency) != (
            item.title,
            categories,
            item.price,
            item.currency,
        ):
            row.title, row.categories, row.price, row.currency, row.updated_at = (
                item.title,
                categories,
                item.price,
                item.currency,
                now,
            )
            updated += 1
    session.flush()
    return created, updated
