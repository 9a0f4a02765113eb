"""Pairwise pseudonyms: a supplier knows a customer only as HMAC(the supplier's own key, customer id).

Each supplier's key is derived from the service secret `supplier_pseudonym` and the supplier id, so two
suppliers' pseudonyms for one customer differ and cannot be joined (non-negotiable 5). A pseudonym is
recorded when it is first handed to a supplier; resolving one looks only among those handed to the asking
supplier, so another supplier's pseudonym resolves exactly like an unknown one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session

from infomediary.database import WriteSession, upsert_insert, utcnow
from infomediary.errors import NotFound
from infomediary.pseudonyms.models import SupplierPseudonymRow
from infomediary.runtime import Runtime
from infomediary.suppliers.models import Supplier

# Customers per lookup when issuing many pseudonyms: under every backend's bound-parameter limit.
_BATCH = 500


class PseudonymUnknown(NotFound):
    # One answer for "no such pseudonym" and "another supplier's pseudonym": no oracle.
    slug = "pseudonym-unknown"
    title = "No customer is known to this supplier by that pseudonym"


class SupplierNotKnown(NotFound):
    slug = "supplier-not-found"
    title = "No such supplier"


@dataclass(frozen=True)
class IssuedPseudonym:
    supplier_id: str
    supplier_name: str
    pseudonym: str
    issued_at: datetime


def supplier_key(runtime: Runtime, supplier_id: str) -> bytes:
    return hmac.new(
        runtime.keys.secret("supplier_pseudonym"), b"supplier:" + supplier_id.encode(), hashlib.sha256
    ).digest()


def pseudonym(runtime: Runtime, supplier_id: str, customer_id: str) -> str:
    """The customer as this supplier knows them: base64url (unpadded) HMAC-SHA256, 43 characters."""
    digest = hmac.new(supplier_key(runtime, supplier_id), customer_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def issue(session: WriteSession, runtime: Runtime, supplier_id: str, customer_id: str) -> IssuedPseudonym:
    """Hand the customer's pseudonym to a supplier: records it so the supplier's requests can name it."""
    supplier = session.get(Supplier, supplier_id)
    if supplier is None:
        raise SupplierNotKnown()
    value = pseudonym(runtime, supplier_id, customer_id)
    _record(session, supplier_id, {customer_id: value})
    issued_at = session.execute(
        select(SupplierPseudonymRow.issued_at).where(
            SupplierPseudonymRow.supplier_id == supplier_id, SupplierPseudonymRow.pseudonym == value
        )
    ).scalar_one()
    return IssuedPseudonym(supplier_id, supplier.name, value, issued_at)


def _record(session: WriteSession, supplier_id: str, values: dict[str, str]) -> None:
    """Record customer -> pseudonym rows, keeping the ones already there (and their issue time).

    An insert that skips conflicts, not a read then an insert: two requests handing the same new customer
    to one supplier at once (two slices, a slice and an inbox reply) both read "not issued" and the second
    insert failed on the key (the load benchmark met it as a 500). The pseudonym is a function of the pair,
    so the row either would have written is the same.
    """
    if not values:
        return
    now = utcnow()
    if session.get_bind().dialect.name == "postgresql":
        # One statement for the whole batch: an executemany ran one INSERT per customer, some 460 per
        # slice, and PostgreSQL's share of a slice's CPU was mostly those.
        params = {
            "supplier_id": supplier_id,
            "pseudonyms": list(values.values()),
            "customer_ids": list(values),
            "issued_at": now,
        }
        session.execute(_PG_RECORD, params)
        return
    rows = [
        {"supplier_id": supplier_id, "pseudonym": value, "customer_id": cid, "issued_at": now}
        for cid, value in values.items()
    ]
    for start in range(0, len(rows), _BATCH):
        session.execute(
            upsert_insert(session, SupplierPseudonymRow).on_conflict_do_nothing(),
            rows[start : start + _BATCH],
        )


_PG_RECORD = text(
    "INSERT INTO supplier_pseudonyms (supplier_id, pseudonym, customer_id, issued_at)"
    " SELECT CAST(:supplier_id AS varchar), p.pseudonym, p.customer_id, CAST(:issued_at AS timestamptz)"
    " FROM unnest(CAST(:pseudonyms AS varchar[]), CAST(:customer_ids AS varchar[]))"
    " AS p(pseudonym, customer_id)"
    " ON CONFLICT DO NOTHING"
)

# Built once: resolving runs on every supplier request that names a pseudonym.
_RESOLVE = select(SupplierPseudonymRow.customer_id).where(
    SupplierPseudonymRow.supplier_id == bindparam("supplier_id"),
    SupplierPseudonymRow.pseudonym == bindparam("pseudonym"),
)


def resolve(session: Session, runtime: Runtime, supplier_id: str, value: str) -> str:
    """The customer a supplier means by `value`, or `PseudonymUnknown`; only this supplier's are searched."""
    customer_id = session.execute(_RESOLVE, {"supplier_id": supplier_id, "pseudonym": value}).scalar()
    # Recomputing under the supplier's key guards against a row that does not belong to this supplier.
    if customer_id is None or not hmac.compare_digest(pseudonym(runtime, supplier_id, customer_id), value):
        raise PseudonymUnknown()
    return customer_id


def issued_to_suppliers(session: Session, customer_id: str) -> list[IssuedPseudonym]:
    """Which supplier knows the customer by which pseudonym."""
    rows = session.execute(
        select(SupplierPseudonymRow, Supplier.name)
        .join(Supplier, Supplier.id == SupplierPseudonymRow.supplier_id)
        .where(SupplierPseudonymRow.customer_id == customer_id)
        .order_by(Supplier.name)
    )
    return [IssuedPseudonym(r.supplier_id, name, r.pseudonym, r.issued_at) for r, name in rows]


def issue_many(
    session: WriteSession, runtime: Runtime, supplier_id: str, customer_ids: list[str]
) -> dict[str, str]:
    """Hand many customers' pseudonyms to a supplier at once (a slice); returns customer -> pseudonym."""
    values = {cid: pseudonym(runtime, supplier_id, cid) for cid in customer_ids}
    _record(session, supplier_id, values)
    return values
