"""Pairwise pseudonyms: a supplier knows a customer only as HMAC(the supplier's own key, customer id).

Each supplier's key is derived from the service secret `supplier_pseudonym` and the supplier id, so two
suppliers' pseudonyms for one customer differ and cannot be joined (non-negotiable 5). A pseudonym is
recorded when it is handed to a supplier; resolving one looks only among those handed to the asking
supplier, so another supplier's pseudonym resolves exactly like an unknown one.

Two kinds, by whether the customer chose a relationship with the supplier:

* The stable pseudonym (`pseudonym`, `issue`): the same every time, handed out only where the customer
  chose the relationship (she handed it over herself, accepted an offer that releases her identity, or
  answered a request; webhooks name her by it).
* Per-release pseudonyms (`issue_release`): every slice release draws a fresh release id, and each row's
  pseudonym is HMAC(HMAC(supplier key, release id), customer id). The same customer gets unrelated
  pseudonyms in two releases, and neither relates to her stable one, so a supplier cannot join its slices
  row by row (issue 17: five 5-anonymous one-field slices joined on a stable pseudonym left 296 of 400
  rows unique). The alternative, a per-supplier release state that generalises each new slice against
  everything the supplier already holds, was not chosen: a supplier's early slices would coarsen every
  later one for good, and the state would have to stay consistent through erasure and restore. Unlinkable
  releases give the same guarantee (each release is k-anonymous and nothing links rows across releases)
  with no state to keep consistent. A release pseudonym still resolves for its supplier, so a supplier can
  send a request to a customer it met in a slice, and an auditor's penalty can name her.
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
from infomediary.ids import new_id
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
class Release:
    """The pseudonyms of one slice release: customer -> pseudonym, under a release id drawn for it."""

    release_id: str
    pseudonyms: dict[str, str]


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


def release_key(runtime: Runtime, supplier_id: str, release_id: str) -> bytes:
    # Its own key per release: a release pseudonym is then as unrelated to the stable one (keyed by the
    # supplier key itself) as to any other release's.
    return hmac.new(
        supplier_key(runtime, supplier_id), b"release:" + release_id.encode(), hashlib.sha256
    ).digest()


def _encoded(key: bytes, customer_id: str) -> str:
    # base64url (unpadded) HMAC-SHA256, 43 characters: the shape the edge validates for every pseudonym.
    digest = hmac.new(key, customer_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def pseudonym(runtime: Runtime, supplier_id: str, customer_id: str) -> str:
    """The customer's stable pseudonym for this supplier, for relationships she chose."""
    return _encoded(supplier_key(runtime, supplier_id), customer_id)


def release_pseudonym(runtime: Runtime, supplier_id: str, release_id: str, customer_id: str) -> str:
    """The customer's pseudonym in one slice release: unrelated to her stable one and to other releases'."""
    return _encoded(release_key(runtime, supplier_id, release_id), customer_id)


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


def _record(
    session: WriteSession, supplier_id: str, values: dict[str, str], release_id: str | None = None
) -> None:
    """Record customer -> pseudonym rows, keeping the ones already there (and their issue time).

    An insert that skips conflicts, not a read then an insert: two requests handing the same new customer
    to one supplier at once (two slices, a slice and an inbox reply) both read "not issued" and the second
    insert failed on the key (the load benchmark met it as a 500). The pseudonym is a function of the pair,
    so the row either would have written is the same.
    """
    if not values:
        return
    # A release's rows are new by construction (a fresh release id); skipping conflicts costs them
    # nothing and keeps one statement for both kinds.
    now = utcnow()
    if session.get_bind().dialect.name == "postgresql":
        # One statement for the whole batch: an executemany ran one INSERT per customer, some 460 per
        # slice, and PostgreSQL's share of a slice's CPU was mostly those.
        params = {
            "supplier_id": supplier_id,
            "pseudonyms": list(values.values()),
            "customer_ids": list(values),
            "issued_at": now,
            "release_id": release_id,
        }
        session.execute(_PG_RECORD, params)
        return
    rows = [
        {
            "supplier_id": supplier_id,
            "pseudonym": value,
            "customer_id": cid,
            "issued_at": now,
            "release_id": release_id,
        }
        for cid, value in values.items()
    ]
    for start in range(0, len(rows), _BATCH):
        session.execute(
            upsert_insert(session, SupplierPseudonymRow).on_conflict_do_nothing(),
            rows[start : start + _BATCH],
        )


_PG_RECORD = text(
    "INSERT INTO supplier_pseudonyms (supplier_id, pseudonym, customer_id, issued_at, release_id)"
    " SELECT CAST(:supplier_id AS varchar), p.pseudonym, p.customer_id, CAST(:issued_at AS timestamptz),"
    " CAST(:release_id AS varchar)"
    " FROM unnest(CAST(:pseudonyms AS varchar[]), CAST(:customer_ids AS varchar[]))"
    " AS p(pseudonym, customer_id)"
    " ON CONFLICT DO NOTHING"
)

# Built once: resolving runs on every supplier request that names a pseudonym.
_RESOLVE = select(SupplierPseudonymRow.customer_id, SupplierPseudonymRow.release_id).where(
    SupplierPseudonymRow.supplier_id == bindparam("supplier_id"),
    SupplierPseudonymRow.pseudonym == bindparam("pseudonym"),
)


@dataclass(frozen=True)
class Resolved:
    customer_id: str
    # The slice release the pseudonym was handed out in; None for her stable pseudonym.
    release_id: str | None


def resolve_named(session: Session, runtime: Runtime, supplier_id: str, value: str) -> Resolved:
    """The customer a supplier means by `value` (stable or from one of its releases) and which kind it is,
    or `PseudonymUnknown`; only this supplier's are searched."""
    found = session.execute(_RESOLVE, {"supplier_id": supplier_id, "pseudonym": value}).first()
    if found is None:
        raise PseudonymUnknown()
    customer_id, release_id = found
    # Recomputing under the supplier's key (and the row's release) guards against a row that does not
    # belong to this supplier.
    expected = (
        pseudonym(runtime, supplier_id, customer_id)
        if release_id is None
        else release_pseudonym(runtime, supplier_id, release_id, customer_id)
    )
    if not hmac.compare_digest(expected, value):
        raise PseudonymUnknown()
    return Resolved(str(customer_id), None if release_id is None else str(release_id))


def resolve(
    session: Session, runtime: Runtime, supplier_id: str, value: str, *, stable_only: bool = False
) -> str:
    """The customer a supplier means by `value` (stable or from one of its releases), or `PseudonymUnknown`.

    `stable_only` refuses a release pseudonym like an unknown one: for answers that are a function of the
    customer (her recommendations), which, asked under two releases' pseudonyms, would match and join them.
    """
    named = resolve_named(session, runtime, supplier_id, value)
    if stable_only and named.release_id is not None:
        raise PseudonymUnknown()
    return named.customer_id


def issued_to_suppliers(session: Session, customer_id: str) -> list[IssuedPseudonym]:
    """Which supplier knows the customer by which stable pseudonym.

    Release pseudonyms are not listed: each names her in one slice only and joins nothing, so as a list of
    "who can recognise me" they would only add noise; each slice she was in is in her policy log as a
    decision for that supplier.
    """
    rows = session.execute(
        select(SupplierPseudonymRow, Supplier.name)
        .join(Supplier, Supplier.id == SupplierPseudonymRow.supplier_id)
        .where(SupplierPseudonymRow.customer_id == customer_id, SupplierPseudonymRow.release_id.is_(None))
        .order_by(Supplier.name)
    )
    return [IssuedPseudonym(r.supplier_id, name, r.pseudonym, r.issued_at) for r, name in rows]


def issue_many(
    session: WriteSession, runtime: Runtime, supplier_id: str, customer_ids: list[str]
) -> dict[str, str]:
    """Hand many customers' stable pseudonyms to a supplier at once; returns customer -> pseudonym."""
    key = supplier_key(runtime, supplier_id)
    values = {cid: _encoded(key, cid) for cid in customer_ids}
    _record(session, supplier_id, values)
    return values


def issue_release(
    session: WriteSession, runtime: Runtime, supplier_id: str, customer_ids: list[str]
) -> Release:
    """Fresh, unlinkable pseudonyms for one slice release, recorded so each resolves for this supplier."""
    release_id = new_id("rel")
    key = release_key(runtime, supplier_id, release_id)
    values = {cid: _encoded(key, cid) for cid in customer_ids}
    _record(session, supplier_id, values, release_id)
    return Release(release_id, values)
