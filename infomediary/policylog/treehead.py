"""Signed tree heads: the log's size and root, with a timestamp, signed as a C2SP checkpoint (Ed25519).

Signing reads the root from the stored perfect nodes (a handful of rows). A head is its own small
transaction, separate from any request's: it records what is already committed and nothing else. A head is
signed on demand, when one is read and the last is older than the configured interval (`refresh`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from infomediary.database import WriteSession
from infomediary.policylog.checkpoint import Checkpoint, format_checkpoint, sign_note, verifier_key_string
from infomediary.policylog.merkle import getter_from_mapping, root_hash, root_hash_nodes
from infomediary.policylog.models import PolicyLogTreeHead
from infomediary.policylog.nodes import fetch_nodes
from infomediary.policylog.service import tree_size
from infomediary.runtime import Runtime

TIMESTAMP_EXTENSION = "timestamp "


@dataclass(frozen=True)
class SignedTreeHead:
    tree_size: int
    root_hash: bytes
    timestamp_ms: int
    checkpoint: str


def verifier_key(runtime: Runtime) -> str:
    """The published C2SP verifier key; its name is the log's origin."""
    return verifier_key_string(
        runtime.settings.resolved_log_origin, runtime.keys.log_signing_key().public_key()
    )


def _view(row: PolicyLogTreeHead) -> SignedTreeHead:
    return SignedTreeHead(row.tree_size, bytes(row.root_hash), row.timestamp_ms, row.checkpoint)


def latest(session: Session) -> SignedTreeHead | None:
    row = session.scalar(
        select(PolicyLogTreeHead).order_by(PolicyLogTreeHead.tree_size.desc(), PolicyLogTreeHead.id.desc())
    )
    return _view(row) if row is not None else None


@dataclass(frozen=True)
class HeadPage:
    heads: list[SignedTreeHead]
    next_cursor: int | None


def history(session: Session, *, before: int | None = None, limit: int = 50) -> HeadPage:
    """Signed tree heads, newest first, each older than the cursor `before` (a head's sequence number)."""
    limit = max(1, min(limit, 200))
    query = select(PolicyLogTreeHead).order_by(PolicyLogTreeHead.id.desc())
    if before is not None:
        query = query.where(PolicyLogTreeHead.id < before)
    rows = list(session.scalars(query.limit(limit + 1)))
    page = rows[:limit]
    return HeadPage([_view(r) for r in page], page[-1].id if len(rows) > limit and page else None)


def sign(session: WriteSession, runtime: Runtime) -> SignedTreeHead:
    """Sign a head for the current size, in the caller's (writing) transaction."""
    # Nodes commit with the size that completes them, so the nodes of a committed size are all there.
    size = tree_size(session)
    root = root_hash(size, getter_from_mapping(fetch_nodes(session, root_hash_nodes(size))))
    timestamp_ms = int(time.time() * 1000)
    origin = runtime.settings.resolved_log_origin
    body = format_checkpoint(
        Checkpoint(
            origin=origin, size=size, root_hash=root, extensions=(f"{TIMESTAMP_EXTENSION}{timestamp_ms}",)
        )
    )
    note = sign_note(body, origin, runtime.keys.log_signing_key())
    session.add(PolicyLogTreeHead(tree_size=size, root_hash=root, timestamp_ms=timestamp_ms, checkpoint=note))
    session.flush()
    return SignedTreeHead(size, root, timestamp_ms, note)


def _due(session: Session, runtime: Runtime, last: SignedTreeHead | None) -> bool:
    if last is None:
        return True
    interval_ms = runtime.settings.log_tree_head_interval_seconds * 1000
    fresh = int(time.time() * 1000) - last.timestamp_ms < interval_ms
    return not fresh and tree_size(session) > last.tree_size


@dataclass(frozen=True)
class HeadState:
    latest: SignedTreeHead | None
    due: bool
    """Whether a new head should be signed now: none yet, or the log grew and the last is old enough."""


def state(session: Session, runtime: Runtime) -> HeadState:
    """The latest head and whether one is due, read only (what decides whether to open a writing one)."""
    last = latest(session)
    return HeadState(last, _due(session, runtime, last))


def refresh(session: WriteSession, runtime: Runtime, *, force: bool = False) -> SignedTreeHead:
    """Sign a new head in the caller's transaction if the log grew and the last head is older than the
    configured interval (always, with `force`); otherwise answer the last one.

    The caller's transaction should write nothing else (a head records what is already committed): the
    request path signs in a transaction of its own before the request reads (`api.tree_heads`), the command
    line in a unit of work of its own. Deciding again here, inside the writing transaction, keeps two signers
    on SQLite (one writer at a time) from signing the same size twice.
    """
    last = latest(session)
    if not force and last is not None and not _due(session, runtime, last):
        return last
    return sign(session, runtime)
