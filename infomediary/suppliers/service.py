"""The supplier record: create, find, list, and a supplier's view of its own record.

Registering a supplier (the record, its log entry and its OAuth client) is `flows.supplier_registered`;
its status moves through the sanctions status machine (`sanctions.status`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from infomediary.database import WriteSession
from infomediary.ids import new_id
from infomediary.settings import SUPPLIER_SCOPES
from infomediary.suppliers.errors import SupplierNameTaken, SupplierNotFound, UnknownScope
from infomediary.suppliers.models import Supplier


@dataclass(frozen=True)
class SupplierView:
    id: str
    name: str
    status: str
    created_at: datetime


def view(supplier: Supplier) -> SupplierView:
    return SupplierView(
        id=supplier.id, name=supplier.name, status=supplier.status, created_at=supplier.created_at
    )


def check_scopes(scopes: Sequence[str]) -> None:
    unknown = sorted(set(scopes) - set(SUPPLIER_SCOPES))
    if unknown:
        raise UnknownScope(
            f"unknown supplier scopes: {', '.join(unknown)}; known: {', '.join(SUPPLIER_SCOPES)}"
        )


def create(session: WriteSession, *, name: str) -> SupplierView:
    """A new supplier record under a unique name."""
    name = name.strip()
    if session.scalar(select(Supplier.id).where(Supplier.name == name)) is not None:
        raise SupplierNameTaken(f"a supplier named {name!r} already exists")
    supplier = Supplier(id=new_id("sup"), name=name)
    session.add(supplier)
    session.flush()
    return view(supplier)


def find(session: Session, name_or_id: str) -> Supplier:
    supplier = session.scalar(
        select(Supplier).where(or_(Supplier.id == name_or_id, Supplier.name == name_or_id))
    )
    if supplier is None:
        raise SupplierNotFound(f"no supplier with id or name {name_or_id!r}")
    return supplier


def list_all(session: Session) -> list[SupplierView]:
    return [view(s) for s in session.scalars(select(Supplier).order_by(Supplier.created_at, Supplier.id))]


def list_page(session: Session, *, cursor: str | None, limit: int) -> tuple[list[SupplierView], str | None]:
    """One page of every supplier, whatever its status, by name; and the next cursor (the last one's id).

    Names are unique, so the cursor's name alone says where the page starts; a cursor naming no supplier
    gives an empty page."""
    query = select(Supplier)
    if cursor:
        after = select(Supplier.name).where(Supplier.id == cursor).scalar_subquery()
        query = query.where(Supplier.name > after)
    rows = session.scalars(query.order_by(Supplier.name).limit(limit + 1)).all()
    page = [view(s) for s in rows[:limit]]
    return page, (page[-1].id if len(rows) > limit else None)


def get_own(session: Session, supplier_id: str) -> SupplierView:
    supplier = session.get(Supplier, supplier_id)
    if supplier is None:
        raise SupplierNotFound()
    return view(supplier)


def take_turns(session: WriteSession, supplier_id: str) -> None:
    """Hold this supplier's row until the transaction ends, so that one kind of write for one supplier (its
    policy's next version, its catalog) is made by one transaction at a time.

    FOR NO KEY UPDATE, not FOR UPDATE: it conflicts with another such lock but not with the key-share locks
    that inserts referencing the supplier take, so consents and log entries keep flowing meanwhile. SQLite
    has no row locks; there every writing transaction holds the database's write lock from BEGIN.
    """
    session.execute(select(Supplier.id).where(Supplier.id == supplier_id).with_for_update(key_share=True))
