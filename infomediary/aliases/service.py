"""Relay addresses: a supplier writes to a customer at an address that is an encryption, not a lookup key.

The local part is base32 (lower case, unpadded) of AES-SIV (RFC 5297) of 8 bytes of her customer id (the
one she is shown, `customers.directory`) and an 8-byte random marker: 32 bytes, 52 characters. Like a
pseudonym (`pseudonyms.service`) it needs no table mapping address to customer: it opens to her customer
id, which only the vault's erasure-key store maps to her internal id, and that name is destroyed at her
erasure, after which an address a supplier kept opens to nobody. `relay_aliases` records only that she
has an address for a supplier, its marker under her erasure key (sealed, and as a tag to find the row by),
and whether it is switched off: a backup holds nothing an address leads to once she is erased.

One relay key for every supplier, not one per supplier as pseudonyms have: mail arrives at a bare address,
and nothing in it says which supplier's key to try. Addresses still cannot be joined across suppliers:
each carries a marker drawn for it, and SIV is a pseudorandom function of the whole plaintext. Which
supplier an address belongs to is the row's, so an address used by anyone but its supplier (handed on,
sold) fails that supplier's sender check (`relay.inbound`).

One address per customer and supplier, made when the supplier is first allowed to contact her (an offer
she accepts, a request she accepts, her own grant of direct marketing or service messages: the flows call
`ensure`), and logged on her log in the same transaction.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from infomediary.aliases.models import RelayAliasRow
from infomediary.customers import directory
from infomediary.database import WriteSession, upsert_insert, utcnow
from infomediary.errors import NotFound
from infomediary.ids import new_id
from infomediary.mail.sealed_local_part import SealedLocalPart
from infomediary.policylog import kinds
from infomediary.policylog.service import append as log_append
from infomediary.policylog.service import log_pseudonym
from infomediary.runtime import Runtime
from infomediary.suppliers.models import Supplier
from vault import VaultError

MARKER_BYTES = 8
# 16 bytes sealed (her customer id and the marker): 52 characters, under the 64 of a local part (RFC 5321).
_SEALED = SealedLocalPart(b"infomediary.relay-alias.v1")
_MARKER_LABEL = "relay-alias.marker"


class AliasUnknown(NotFound):
    slug = "alias-not-found"
    title = "No such relay address"


@dataclass(frozen=True)
class AliasView:
    id: str
    supplier_id: str
    supplier_name: str
    address: str
    created_at: datetime
    switched_off_at: datetime | None

    @property
    def on(self) -> bool:
        return self.switched_off_at is None


@dataclass(frozen=True)
class Recipient:
    """Whom a relay address names: her internal id, the supplier it was made for, and whether it is on."""

    alias_id: str
    customer_id: str
    supplier_id: str
    address: str
    on: bool


def _local_part(runtime: Runtime, shown: str, marker: bytes) -> str:
    raw = directory.customer_id_bytes(shown)
    if raw is None:
        raise ValueError("not a customer id")
    return _SEALED.seal(runtime.keys.secret("relay_alias"), raw + marker)


def _opened(runtime: Runtime, local_part: str) -> tuple[str, bytes] | None:
    """(customer id, marker) sealed in `local_part`, or None."""
    size = directory.CUSTOMER_ID_BYTES + MARKER_BYTES
    opened = _SEALED.open(runtime.keys.secret("relay_alias"), local_part, size=size)
    if opened is None:
        return None
    return directory.customer_id_from_bytes(opened[: directory.CUSTOMER_ID_BYTES]), opened[-MARKER_BYTES:]


def _address(runtime: Runtime, shown: str, marker: bytes) -> str:
    return f"{_local_part(runtime, shown, marker)}@{runtime.settings.relay_domain}"


def _view(runtime: Runtime, shown: str, row: RelayAliasRow, supplier_name: str) -> AliasView:
    marker = runtime.vault.open_bound(row.customer_id, _MARKER_LABEL, row.marker_sealed)
    return AliasView(
        id=row.id,
        supplier_id=row.supplier_id,
        supplier_name=supplier_name,
        address=_address(runtime, shown, marker),
        created_at=row.created_at,
        switched_off_at=row.switched_off_at,
    )


def _row(session: Session, customer_id: str, supplier_id: str) -> RelayAliasRow | None:
    return session.scalars(
        select(RelayAliasRow).where(
            RelayAliasRow.customer_id == customer_id, RelayAliasRow.supplier_id == supplier_id
        )
    ).one_or_none()


def ensure(session: WriteSession, runtime: Runtime, customer_id: str, supplier_id: str) -> AliasView | None:
    """Her relay address for this supplier, made (and logged) if she has none yet; None once she is erased.

    An insert that skips a conflict, not a read then an insert: two of her answers to one supplier at once
    (an offer and a request) both read "none" and the second insert would fail on the pair's key.
    """
    shown = directory.customer_id_of(runtime, customer_id)
    supplier_name = session.scalar(select(Supplier.name).where(Supplier.id == supplier_id))
    if shown is None or supplier_name is None:
        return None
    row = _row(session, customer_id, supplier_id)
    if row is None:
        marker = secrets.token_bytes(MARKER_BYTES)
        vault = runtime.vault
        made = session.scalar(
            upsert_insert(session, RelayAliasRow)
            .values(
                id=new_id("ali"),
                customer_id=customer_id,
                supplier_id=supplier_id,
                marker_tag=vault.tag_bound(customer_id, _MARKER_LABEL, marker),
                marker_sealed=vault.seal_bound(customer_id, _MARKER_LABEL, marker),
                created_at=utcnow(),
            )
            .on_conflict_do_nothing()
            # The id back only from the insert that made the row: rowcount is not reliable for an ORM
            # insert on every driver.
            .returning(RelayAliasRow.id)
        )
        if made is not None:
            log_append(
                session,
                {
                    "kind": kinds.RELAY_ALIAS_CREATED,
                    "subject": log_pseudonym(runtime, customer_id),
                    "supplier_id": supplier_id,
                },
            )
        row = _row(session, customer_id, supplier_id)
        assert row is not None
    return _view(runtime, shown, row, supplier_name)


def address_for(session: WriteSession, runtime: Runtime, customer_id: str, supplier_id: str) -> str | None:
    """The address a supplier is handed in place of hers (made if it is missing); None once she is erased."""
    view = ensure(session, runtime, customer_id, supplier_id)
    return view.address if view else None


def list_for(session: Session, runtime: Runtime, customer_id: str) -> list[AliasView]:
    """Her relay addresses, by supplier name."""
    rows = session.execute(
        select(RelayAliasRow, Supplier.name)
        .join(Supplier, Supplier.id == RelayAliasRow.supplier_id)
        .where(RelayAliasRow.customer_id == customer_id)
        .order_by(Supplier.name, RelayAliasRow.id)
    ).all()
    if not rows:
        return []
    shown = directory.customer_id_of(runtime, customer_id)
    if shown is None:
        return []
    return [_view(runtime, shown, row, name) for row, name in rows]


def get(session: Session, runtime: Runtime, customer_id: str, alias_id: str) -> AliasView:
    """One of her addresses; another's, or none, is `AliasUnknown`."""
    found = session.execute(
        select(RelayAliasRow, Supplier.name)
        .join(Supplier, Supplier.id == RelayAliasRow.supplier_id)
        .where(RelayAliasRow.id == alias_id, RelayAliasRow.customer_id == customer_id)
    ).one_or_none()
    shown = directory.customer_id_of(runtime, customer_id)
    if found is None or shown is None:
        raise AliasUnknown()
    row, name = found
    return _view(runtime, shown, row, name)


def switch(
    session: WriteSession, runtime: Runtime, customer_id: str, alias_id: str, *, on: bool
) -> AliasView:
    """Switch one of her addresses off (its mail is refused from now on) or back on; logged if it changed."""
    row = session.scalars(
        select(RelayAliasRow).where(RelayAliasRow.id == alias_id, RelayAliasRow.customer_id == customer_id)
    ).one_or_none()
    if row is None:
        raise AliasUnknown()
    if (row.switched_off_at is None) != on:
        row.switched_off_at = None if on else utcnow()
        session.flush()
        log_append(
            session,
            {
                "kind": kinds.RELAY_ALIAS_SWITCHED,
                "subject": log_pseudonym(runtime, customer_id),
                "supplier_id": row.supplier_id,
                "details": {"on": int(on)},
            },
        )
    return get(session, runtime, customer_id, alias_id)


def resolve(session: Session, runtime: Runtime, address: str) -> Recipient | None:
    """Whom a relay address names, or None: not under the relay domain, not an address the relay made, or
    hers no more (erased: her customer id names nobody)."""
    local, at, domain = address.strip().rpartition("@")
    if not at or domain.casefold() != runtime.settings.relay_domain.casefold():
        return None
    local = local.lower()
    opened = _opened(runtime, local)
    if opened is None:
        return None
    shown, marker = opened
    customer_id = directory.subject_by_customer_id(runtime, shown)
    if customer_id is None:
        return None
    try:
        tag = runtime.vault.tag_bound(customer_id, _MARKER_LABEL, marker)
    except VaultError:
        return None  # her erasure key is gone (a restored backup not yet reconciled): nobody's address
    row = session.scalars(
        select(RelayAliasRow).where(RelayAliasRow.customer_id == customer_id, RelayAliasRow.marker_tag == tag)
    ).one_or_none()
    if row is None:
        return None
    return Recipient(
        alias_id=row.id,
        customer_id=customer_id,
        supplier_id=row.supplier_id,
        address=f"{local}@{runtime.settings.relay_domain}",
        on=row.switched_off_at is None,
    )
