"""Supplier administration (from the command line) and a supplier's view of its own record."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from infomediary.ids import new_id
from infomediary.oauth.credentials import ClientCredentials, create_client
from infomediary.oauth.models import ClientKind
from infomediary.policylog import kinds as log_kinds
from infomediary.policylog.service import append as log_append
from infomediary.settings import SUPPLIER_SCOPES
from infomediary.suppliers.errors import SupplierNameTaken, SupplierNotFound, UnknownScope
from infomediary.suppliers.models import Supplier, SupplierStatus


@dataclass(frozen=True)
class SupplierView:
    id: str
    name: str
    status: str
    created_at: datetime


def _view(supplier: Supplier) -> SupplierView:
    return SupplierView(
        id=supplier.id, name=supplier.name, status=supplier.status, created_at=supplier.created_at
    )


def add(session: Session, *, name: str, scopes: Sequence[str]) -> tuple[SupplierView, ClientCredentials]:
    unknown = sorted(set(scopes) - set(SUPPLIER_SCOPES))
    if unknown:
        raise UnknownScope(
            f"unknown supplier scopes: {', '.join(unknown)}; known: {', '.join(SUPPLIER_SCOPES)}"
        )
    name = name.strip()
    if session.scalar(select(Supplier.id).where(Supplier.name == name)) is not None:
        raise SupplierNameTaken(f"a supplier named {name!r} already exists")
    supplier = Supplier(id=new_id("sup"), name=name)
    session.add(supplier)
    session.flush()
    log_append(session, {"kind": log_kinds.SUPPLIER_REGISTERED, "supplier_id": supplier.id})
    credentials = create_client(session, kind=ClientKind.SUPPLIER, owner_id=supplier.id, scopes=list(scopes))
    return _view(supplier), credentials


def find(session: Session, name_or_id: str) -> Supplier:
    supplier = session.scalar(
        select(Supplier).where(or_(Supplier.id == name_or_id, Supplier.name == name_or_id))
    )
    if supplier is None:
        raise SupplierNotFound(f"no supplier with id or name {name_or_id!r}")
    return supplier


def list_all(session: Session) -> list[SupplierView]:
    return [_view(s) for s in session.scalars(select(Supplier).order_by(Supplier.created_at, Supplier.id))]


def set_status(
    session: Session, name_or_id: str, status: SupplierStatus, *, reason: str | None = None
) -> SupplierView:
    supplier = find(session, name_or_id)
    supplier.status = status.value
    session.flush()
    log_append(
        session,
        {
            "kind": log_kinds.SUPPLIER_STATUS_CHANGED,
            "supplier_id": supplier.id,
            "reason": reason,
            "details": {"status": status.value},
        },
    )
    return _view(supplier)


def get_own(session: Session, supplier_id: str) -> SupplierView:
    supplier = session.get(Supplier, supplier_id)
    if supplier is None:
        raise SupplierNotFound()
    return _view(supplier)
