"""Appending to the policy log, inside the caller's transaction.

`append` is what every other domain calls: the entry lands in the same transaction as the action it records,
so a rollback removes both. Appends are serialised on the one `policy_log_state` row: the first statement of
an append is `UPDATE policy_log_state SET size = size + n ... RETURNING size`, which on PostgreSQL takes that
row's lock until commit (a concurrent appender waits, then re-reads the committed size under READ
COMMITTED) and on SQLite holds the database write lock (writing sessions already BEGIN IMMEDIATE). So two
writers can never get the same leaf index or read half-written nodes: the tree cannot fork.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, bindparam, event, func, select, update
from sqlalchemy.orm import Session, SessionTransaction

from infomediary.database import WriteSession, require_writable, upsert_insert, utcnow
from infomediary.policylog.bulk import insert_rows
from infomediary.policylog.entry import encode_entry
from infomediary.policylog.kinds import Dimensions, normalise
from infomediary.policylog.merkle import NodeId, getter_from_mapping, leaf_hash, nodes_completed_by_append
from infomediary.policylog.models import PolicyLogEntry, PolicyLogState
from infomediary.policylog.nodes import fetch_nodes
from infomediary.runtime import Runtime

STATE_ROW = 1

# Built once: every proof reads the size first, and constructing the select cost more than running it.
_SIZE = select(PolicyLogState.size).where(PolicyLogState.id == STATE_ROW)


@dataclass(frozen=True)
class LogReceipt:
    leaf_index: int
    leaf_hash: bytes


def log_pseudonym(runtime: Runtime, customer_id: str) -> str:
    """The customer as the log knows them: HMAC-SHA256 under the log's own key, 64 hex digits.

    A different key from the suppliers' pseudonyms, so nothing in the log joins to what a supplier holds.
    """
    key = runtime.keys.secret("log_pseudonym")
    return hmac.new(key, b"customer:" + customer_id.encode(), hashlib.sha256).hexdigest()


# Built once with a bind parameter, like `_SIZE`: every append runs it.
_BUMP = (
    update(PolicyLogState)
    .where(PolicyLogState.id == STATE_ROW)
    .values(size=PolicyLogState.size + bindparam("count", type_=Integer))
    .returning(PolicyLogState.size)
    .execution_options(synchronize_session=False)
)


def _reserve(session: WriteSession, count: int) -> int:
    """Lock the log for this transaction and reserve `count` leaf indexes; returns the first one.

    Only in a writing transaction: in autocommit the reservation would commit and release the lock at once,
    and a concurrent appender would read frontier nodes not yet written (the tree then has gaps for good).
    """
    require_writable(session)
    bump = {"count": count}
    new_size = session.execute(_BUMP, bump).scalar_one_or_none()
    if new_size is None:
        # No state row yet (fresh or emptied database): create it from what is stored, racing safely.
        stored = session.scalar(select(func.coalesce(func.max(PolicyLogEntry.leaf_index) + 1, 0)))
        session.execute(
            upsert_insert(session, PolicyLogState)
            .values(id=STATE_ROW, size=int(stored or 0))
            .on_conflict_do_nothing()
        )
        new_size = session.execute(_BUMP, bump).scalar_one()
    return int(new_size) - count


def _row(leaf_index: int, data: bytes, digest: bytes, dims: Dimensions) -> tuple[Any, ...]:
    """An entry row in `bulk.ENTRY_COLUMNS` order."""
    return (
        leaf_index,
        data,
        digest,
        dims.kind,
        dims.subject,
        dims.supplier_id,
        dims.purpose,
        dims.decision,
        dims.categories,
        dims.release_count,
        dims.epsilon_milli,
    )


def _left_siblings(first: int, count: int) -> list[NodeId]:
    """Stored nodes that appending leaves [first, first + count) will hash with (the left frontier)."""
    needed: list[NodeId] = []
    level, index = 0, first
    while index:
        if index & 1:
            needed.append((level, index - 1))
        level += 1
        index >>= 1
    return needed


def append_many(session: WriteSession, entries: Iterable[Mapping[str, Any]]) -> list[LogReceipt]:
    """Append entries in order in the caller's transaction; nodes are computed in memory, bulk-inserted."""
    now = utcnow()
    prepared = []
    for entry in entries:
        normalised, dims = normalise(entry, now)
        data = encode_entry(normalised)
        prepared.append((data, leaf_hash(data), dims))
    if not prepared:
        return []
    first = _reserve(session, len(prepared))
    # A statement of its own, after the reservation's: under READ COMMITTED a statement sees what was
    # committed when it began, and the frontier a waiting appender needs is what the appender it waited
    # for committed meanwhile. Folded into the reservation (one round trip fewer), it read the old frontier
    # and the concurrency tests caught the missing nodes.
    known = fetch_nodes(session, _left_siblings(first, len(prepared)))
    get = getter_from_mapping(known)
    node_rows: list[tuple[int, int, bytes]] = []
    entry_rows: list[tuple[Any, ...]] = []
    receipts: list[LogReceipt] = []
    for offset, (data, digest, dims) in enumerate(prepared):
        index = first + offset
        for level, node_index, value in nodes_completed_by_append(index, digest, get):
            known[(level, node_index)] = value
            node_rows.append((level, node_index, value))
        entry_rows.append(_row(index, data, digest, dims))
        receipts.append(LogReceipt(leaf_index=index, leaf_hash=digest))
    insert_rows(session, entry_rows, node_rows, now)
    return receipts


_PENDING = "policylog.pending_entries"  # session.info key: entries waiting for the commit


@dataclass
class _Pending:
    """Entries waiting for the commit, with their session as the `WriteSession` the caller handed over: the
    commit hook runs for every `Session` and appends through this one, so no cast is needed there."""

    session: WriteSession
    entries: list[Mapping[str, Any]]


def append_at_commit(session: WriteSession, entries: Iterable[Mapping[str, Any]]) -> None:
    """Append entries as the caller's transaction commits: still inside it, so they commit or roll back
    together with what they record, but the log's lock is taken only then.

    Appending takes the one lock every logged write shares and holds it until commit. Appended mid-handler,
    the lock was held through the rest of the handler and the hops to the commit, each statement waiting for
    the GIL under load: tens of milliseconds per write, with counts, consent changes and slices queued behind
    each other on it. Appended in the commit, the lock lasts the append and the commit. For callers that need
    no receipt (the leaf index is known only at commit).
    """
    pending: _Pending | None = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = _Pending(session, [])
    pending.entries.extend(entries)


@event.listens_for(Session, "before_commit")
def _append_pending(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint's release: the entries wait for the transaction's own commit
    pending: _Pending | None = session.info.pop(_PENDING, None)
    if pending is not None and pending.entries:
        append_many(pending.session, pending.entries)


@event.listens_for(Session, "after_transaction_end")
def _forget_pending(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        # Rolled back (a commit has taken them already): the entries go with what they recorded.
        session.info.pop(_PENDING, None)


def append(session: WriteSession, entry: Mapping[str, Any]) -> LogReceipt:
    """Append one entry in the caller's transaction; see `kinds` for the fields an entry may carry."""
    return append_many(session, [entry])[0]


def tree_size(session: Session) -> int:
    """The number of entries committed (as this transaction sees it)."""
    size = session.scalar(_SIZE)
    return int(size or 0)
