"""Reading the log: entry ranges, inclusion and consistency proofs, and the entries about one subject.

Each proof lists the perfect nodes it needs and fetches them in one query, so a proof costs one round trip
and O(log n) rows however large the log is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from infomediary.policylog.errors import BadLogRange
from infomediary.policylog.merkle import (
    consistency_proof,
    consistency_proof_nodes,
    getter_from_mapping,
    inclusion_proof,
    inclusion_proof_nodes,
)
from infomediary.policylog.models import PolicyLogEntry
from infomediary.policylog.nodes import fetch_nodes
from infomediary.policylog.service import tree_size

MAX_ENTRIES_PER_CALL = 1000


@dataclass(frozen=True)
class StoredEntry:
    leaf_index: int
    entry: bytes
    kind: str
    supplier_id: str | None
    purpose: str | None
    decision: str | None


def _stored(row: PolicyLogEntry) -> StoredEntry:
    return StoredEntry(row.leaf_index, bytes(row.entry), row.kind, row.supplier_id, row.purpose, row.decision)


def entries(session: Session, start: int, end: int) -> list[StoredEntry]:
    """Entries `start..end` inclusive (RFC 6962 get-entries); at most 1000, fewer at the end."""
    size = tree_size(session)
    if start < 0 or end < start:
        raise BadLogRange("need 0 <= start <= end")
    if start >= size:
        raise BadLogRange(f"start {start} is beyond the log (size {size})")
    last = min(end, size - 1, start + MAX_ENTRIES_PER_CALL - 1)
    rows = session.scalars(
        select(PolicyLogEntry)
        .where(PolicyLogEntry.leaf_index.between(start, last))
        .order_by(PolicyLogEntry.leaf_index)
    )
    return [_stored(row) for row in rows]


def _check_size(session: Session, size: int) -> None:
    current = tree_size(session)
    if size > current:
        raise BadLogRange(f"tree_size {size} is larger than the log (size {current})")


def inclusion(session: Session, leaf_index: int, size: int) -> list[bytes]:
    """The audit path of leaf `leaf_index` in the tree of `size` leaves."""
    if not 0 <= leaf_index < size:
        raise BadLogRange("need 0 <= leaf_index < tree_size")
    _check_size(session, size)
    nodes = fetch_nodes(session, inclusion_proof_nodes(leaf_index, size))
    return inclusion_proof(leaf_index, size, getter_from_mapping(nodes))


def consistency(session: Session, first: int, second: int) -> list[bytes]:
    """The proof that the tree of `second` leaves extends the tree of `first` leaves."""
    if not 0 <= first <= second:
        raise BadLogRange("need 0 <= first <= second")
    _check_size(session, second)
    nodes = fetch_nodes(session, consistency_proof_nodes(first, second))
    return consistency_proof(first, second, getter_from_mapping(nodes))


def about_subject(
    session: Session,
    subject: str,
    *,
    after: int,
    limit: int,
    before: int | None = None,
    newest_first: bool = False,
) -> list[StoredEntry]:
    """The entries whose subject is this log pseudonym after leaf index `after` (and before `before`), oldest
    first unless `newest_first`."""
    query = select(PolicyLogEntry).where(PolicyLogEntry.subject == subject, PolicyLogEntry.leaf_index > after)
    if before is not None:
        query = query.where(PolicyLogEntry.leaf_index < before)
    order = PolicyLogEntry.leaf_index.desc() if newest_first else PolicyLogEntry.leaf_index
    rows = session.scalars(query.order_by(order).limit(limit))
    return [_stored(row) for row in rows]


def inclusion_many(session: Session, leaf_indexes: Sequence[int], size: int) -> dict[int, list[bytes]]:
    """Audit paths for several leaves against one tree size, fetching all their nodes in one query."""
    wanted = [i for i in leaf_indexes if 0 <= i < size]
    needed = {node for i in wanted for node in inclusion_proof_nodes(i, size)}
    get = getter_from_mapping(fetch_nodes(session, sorted(needed)))
    return {i: inclusion_proof(i, size, get) for i in wanted}
