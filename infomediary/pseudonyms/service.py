"""Pairwise pseudonyms: a supplier knows a customer only by an encryption, under the supplier's own key, of
her customer id (the one she is shown, `customers.directory`).

Each supplier's key is derived from the service secret `supplier_pseudonym` and the supplier id, so two
suppliers' pseudonyms for one customer differ and cannot be joined (non-negotiable 5). A pseudonym is
AES-SIV (RFC 5297, deterministic authenticated encryption) of 8 bytes of customer id and 8 bytes of release
marker, with the supplier id as associated data: 32 bytes, 43 characters of base64url. Only the service can
make one; resolving one decrypts it under the asking supplier's key, so another supplier's pseudonym fails to
authenticate exactly like an unknown one.

Why encryption and not a keyed hash with a lookup table (what this was until issue 18): the table, in every
database backup, tied each pseudonym to the internal customer id and so to every row of hers, for good. An
encrypted pseudonym needs no table: it opens to her customer id, which only the vault's erasure-key store
maps to her internal id, and that name is destroyed with her key. After an erasure, a pseudonym a supplier
kept, a database backup and the current keys lead nowhere.

Two kinds, by whether the customer chose a relationship with the supplier:

* The stable pseudonym (`pseudonym`, `issue`): release marker zero, the same every time, handed out only
  where the customer chose the relationship (she handed it over herself, accepted an offer that releases
  her identity, or answered a request; webhooks name her by it). Its handing over is recorded (supplier and
  internal id, never the pseudonym) for her list of who knows her, and it resolves only once recorded.
* Per-release pseudonyms (`issue_release`): every slice release draws a fresh random 64-bit marker, so the
  same customer gets unrelated pseudonyms in two releases, and neither relates to her stable one (SIV is a
  pseudorandom function of the whole plaintext); a supplier cannot join its slices row by row (issue 17:
  five 5-anonymous one-field slices joined on a stable pseudonym left 296 of 400 rows unique). The
  alternative, a per-supplier release state that generalises each new slice against everything the supplier
  already holds, was not chosen: a supplier's early slices would coarsen every later one for good, and the
  state would have to stay consistent through erasure and restore. Nothing is recorded per release; a
  release pseudonym still resolves for its supplier, so a supplier can send a request to a customer it met
  in a slice, and an auditor's penalty can name her.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from infomediary.customers import directory
from infomediary.customers.models import Customer
from infomediary.database import WriteSession, upsert_insert, utcnow
from infomediary.errors import NotFound
from infomediary.ids import new_id
from infomediary.pseudonyms.models import SupplierPseudonymRow
from infomediary.runtime import Runtime
from infomediary.suppliers.models import Supplier

# Rows per insert when recording many stable pseudonyms: under every backend's bound-parameter limit.
_BATCH = 500
_MARKER_BYTES = 8
_STABLE = bytes(_MARKER_BYTES)
_SIV_KEY_LABEL = b"infomediary.pseudonym.siv.v2"
_AD_LABEL = b"infomediary.pseudonym.v2"


class PseudonymUnknown(NotFound):
    # One answer for "no such pseudonym" and "another supplier's pseudonym": no oracle.
    slug = "pseudonym-unknown"
    title = "No customer is known to this supplier by that pseudonym"


class SupplierNotKnown(NotFound):
    slug = "supplier-not-found"
    title = "No such supplier"


class CustomerUnnamed(NotFound):
    """The customer has no customer id any more (erased, or her key is gone after a restore)."""

    slug = "customer-not-found"
    title = "No such customer"


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


@lru_cache(maxsize=1024)
def _siv_key(key: bytes) -> bytes:
    # AES-256-SIV takes a 512-bit key (two AES-256 keys): expanded from the supplier's 256-bit key.
    return HKDF(algorithm=hashes.SHA256(), length=64, salt=None, info=_SIV_KEY_LABEL).derive(key)


def _cipher(runtime: Runtime, supplier_id: str) -> AESSIV:
    return AESSIV(_siv_key(supplier_key(runtime, supplier_id)))


def _seal(cipher: AESSIV, supplier_id: str, shown: str, marker: bytes) -> str:
    raw = directory.customer_id_bytes(shown)
    if raw is None:
        raise CustomerUnnamed()
    sealed = cipher.encrypt(raw + marker, [_AD_LABEL, supplier_id.encode()])
    # base64url (unpadded) of 32 bytes, 43 characters: the shape the edge validates for every pseudonym.
    return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode()


def _open(cipher: AESSIV, supplier_id: str, value: str) -> tuple[str, bytes] | None:
    """(customer id, release marker) sealed in `value` under this supplier's key, or None."""
    try:
        sealed = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        opened = cipher.decrypt(sealed, [_AD_LABEL, supplier_id.encode()])
    except (InvalidTag, ValueError, binascii.Error):
        return None
    if len(opened) != directory.CUSTOMER_ID_BYTES + _MARKER_BYTES:
        return None
    return directory.customer_id_from_bytes(opened[: directory.CUSTOMER_ID_BYTES]), opened[-_MARKER_BYTES:]


def _shown(runtime: Runtime, customer_ids: Sequence[str]) -> dict[str, str]:
    shown = directory.customer_ids_of(runtime, customer_ids)
    if len(shown) != len(set(customer_ids)):
        raise CustomerUnnamed()
    return shown


def pseudonym(runtime: Runtime, supplier_id: str, customer_id: str) -> str:
    """The customer's stable pseudonym for this supplier, for relationships she chose."""
    shown = _shown(runtime, [customer_id])[customer_id]
    return _seal(_cipher(runtime, supplier_id), supplier_id, shown, _STABLE)


def issue(session: WriteSession, runtime: Runtime, supplier_id: str, customer_id: str) -> IssuedPseudonym:
    """Hand the customer's pseudonym to a supplier: records that it did, so that it resolves and she sees
    who knows her."""
    supplier = session.get(Supplier, supplier_id)
    if supplier is None:
        raise SupplierNotKnown()
    value = pseudonym(runtime, supplier_id, customer_id)
    _record(session, supplier_id, [customer_id])
    issued_at = session.execute(
        select(SupplierPseudonymRow.issued_at).where(
            SupplierPseudonymRow.supplier_id == supplier_id, SupplierPseudonymRow.customer_id == customer_id
        )
    ).scalar_one()
    return IssuedPseudonym(supplier_id, supplier.name, value, issued_at)


def _record(session: WriteSession, supplier_id: str, customer_ids: Sequence[str]) -> None:
    """Record the stable pseudonyms handed over, keeping the rows already there (and their issue time).

    An insert that skips conflicts, not a read then an insert: two requests handing the same new customer
    to one supplier at once (two deliveries, a delivery and an inbox reply) both read "not issued" and the
    second insert failed on the key (the load benchmark met it as a 500). The row is the pair, so the row
    either would have written is the same.
    """
    now = utcnow()
    rows = [{"supplier_id": supplier_id, "customer_id": cid, "issued_at": now} for cid in customer_ids]
    for start in range(0, len(rows), _BATCH):
        session.execute(
            upsert_insert(session, SupplierPseudonymRow).on_conflict_do_nothing(),
            rows[start : start + _BATCH],
        )


@dataclass(frozen=True)
class Resolved:
    customer_id: str
    # Whether the pseudonym came from a slice release (else it is her stable one).
    from_release: bool


def resolve_named(session: Session, runtime: Runtime, supplier_id: str, value: str) -> Resolved:
    """The customer a supplier means by `value` (stable or from one of its releases) and which kind it is,
    or `PseudonymUnknown`; only this supplier's open under its key."""
    opened = _open(_cipher(runtime, supplier_id), supplier_id, value)
    if opened is None:
        raise PseudonymUnknown()
    shown, marker = opened
    customer_id = directory.subject_by_customer_id(runtime, shown)
    if customer_id is None:
        raise PseudonymUnknown()
    from_release = not hmac.compare_digest(marker, _STABLE)
    live = exists().where(Customer.id == customer_id)
    if not from_release:
        # A stable pseudonym names her only where she was handed over (her key could make any).
        live = exists().where(
            SupplierPseudonymRow.supplier_id == supplier_id,
            SupplierPseudonymRow.customer_id == customer_id,
        )
    if not session.scalar(select(live)):
        raise PseudonymUnknown()
    return Resolved(customer_id, from_release)


def resolve(
    session: Session, runtime: Runtime, supplier_id: str, value: str, *, stable_only: bool = False
) -> str:
    """The customer a supplier means by `value` (stable or from one of its releases), or `PseudonymUnknown`.

    `stable_only` refuses a release pseudonym like an unknown one: for answers that are a function of the
    customer (her recommendations), which, asked under two releases' pseudonyms, would match and join them.
    """
    named = resolve_named(session, runtime, supplier_id, value)
    if stable_only and named.from_release:
        raise PseudonymUnknown()
    return named.customer_id


def issued_to_suppliers(session: Session, runtime: Runtime, customer_id: str) -> list[IssuedPseudonym]:
    """Which supplier knows the customer by which stable pseudonym.

    Release pseudonyms are not listed: each names her in one slice only and joins nothing, so as a list of
    "who can recognise me" they would only add noise; each slice she was in is in her policy log as a
    decision for that supplier.
    """
    rows = session.execute(
        select(SupplierPseudonymRow, Supplier.name)
        .join(Supplier, Supplier.id == SupplierPseudonymRow.supplier_id)
        .where(SupplierPseudonymRow.customer_id == customer_id)
        .order_by(Supplier.name)
    ).all()
    if not rows:
        return []
    shown = _shown(runtime, [customer_id])[customer_id]
    return [
        IssuedPseudonym(
            r.supplier_id,
            name,
            _seal(_cipher(runtime, r.supplier_id), r.supplier_id, shown, _STABLE),
            r.issued_at,
        )
        for r, name in rows
    ]


def issue_many(
    session: WriteSession, runtime: Runtime, supplier_id: str, customer_ids: list[str]
) -> dict[str, str]:
    """Hand many customers' stable pseudonyms to a supplier at once; returns customer -> pseudonym."""
    shown = _shown(runtime, customer_ids)
    cipher = _cipher(runtime, supplier_id)
    values = {cid: _seal(cipher, supplier_id, shown[cid], _STABLE) for cid in customer_ids}
    _record(session, supplier_id, customer_ids)
    return values


def release_pseudonyms(runtime: Runtime, supplier_id: str, customer_ids: Sequence[str]) -> Release:
    """Fresh, unlinkable pseudonyms for one slice release; nothing is recorded, and each opens for this
    supplier only."""
    shown = _shown(runtime, customer_ids)
    cipher = _cipher(runtime, supplier_id)
    # Never the stable marker: a release pseudonym must not be mistaken for (or equal) the stable one.
    marker = _STABLE
    while marker == _STABLE:
        marker = secrets.token_bytes(_MARKER_BYTES)
    values = {cid: _seal(cipher, supplier_id, shown[cid], marker) for cid in customer_ids}
    return Release(new_id("rel"), values)
