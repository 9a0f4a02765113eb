"""Batched row writes store every column as the ORM reads it back, NULLs and timestamps included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from infomediary.database import unit_of_work
from infomediary.policylog import kinds
from infomediary.policylog.bulk import SMALL_BATCH
from infomediary.policylog.entry import decode_entry
from infomediary.policylog.merkle import getter_from_mapping, node_hash, root_hash
from infomediary.policylog.models import PolicyLogEntry, PolicyLogNode
from infomediary.policylog.service import append_many
from infomediary.runtime import Runtime

SUBJECT = "0f" * 32


def test_batched_rows_read_back_through_the_orm(runtime: Runtime) -> None:
    before = datetime.now(UTC)
    release = {
        "kind": kinds.RELEASE,
        "supplier_id": "sup-1",
        "purpose": "research",
        "release": {"kind": "aggregate", "categories": ["b", "a"], "count": 12, "epsilon_milli": 250},
    }
    decision = {
        "kind": kinds.DECISION,
        "subject": SUBJECT,
        "decision": kinds.DENY,
        "reason": "no consent",
        "categories": ["interests"],
    }
    with unit_of_work(runtime.session_factory) as session:
        receipts = append_many(session, [release, decision, {"kind": kinds.KEYS_SIGNING_ROTATED}])
    with runtime.read_session_factory() as session:
        rows = list(session.scalars(select(PolicyLogEntry).order_by(PolicyLogEntry.leaf_index)))
    assert [row.leaf_index for row in rows] == [0, 1, 2]
    assert [bytes(row.leaf_hash) for row in rows] == [r.leaf_hash for r in receipts]
    first, second, third = rows
    assert (first.kind, first.subject, first.supplier_id, first.purpose, first.decision) == (
        kinds.RELEASE,
        None,
        "sup-1",
        "research",
        None,
    )
    assert (first.categories, first.release_count, first.epsilon_milli) == ("a b", 12, 250)
    assert (second.subject, second.decision, second.categories, second.release_count) == (
        SUBJECT,
        kinds.DENY,
        "interests",
        None,
    )
    assert decode_entry(bytes(third.entry))["kind"] == kinds.KEYS_SIGNING_ROTATED
    for row in rows:
        assert row.created_at.tzinfo is not None
        assert before - timedelta(seconds=1) <= row.created_at <= datetime.now(UTC)
        assert row.created_at == rows[0].created_at  # one timestamp per batch


def _reference_root(leaves: list[bytes]) -> bytes:
    """RFC 6962's MTH over leaf hashes, straight from its definition."""
    if len(leaves) == 1:
        return leaves[0]
    split = 1 << ((len(leaves) - 1).bit_length() - 1)
    return node_hash(_reference_root(leaves[:split]), _reference_root(leaves[split:]))


def test_large_and_small_batches_store_the_tree_the_leaves_define(runtime: Runtime) -> None:
    # A batch above SMALL_BATCH goes by COPY on PostgreSQL, the rest as one statement: both must store
    # every entry and every completed node, or the next append and the proofs read a broken tree.
    entries = [{"kind": kinds.KEYS_SIGNING_ROTATED, "details": {"n": n}} for n in range(SMALL_BATCH + 7)]
    with unit_of_work(runtime.session_factory) as session:
        receipts = append_many(session, entries)
    with unit_of_work(runtime.session_factory) as session:
        receipts += append_many(session, entries[:3])
    with runtime.read_session_factory() as session:
        indexes = list(session.scalars(select(PolicyLogEntry.leaf_index).order_by(PolicyLogEntry.leaf_index)))
        nodes = {(n.level, n.node_index): bytes(n.hash) for n in session.scalars(select(PolicyLogNode))}
    size = len(entries) + 3
    assert indexes == list(range(size))
    assert root_hash(size, getter_from_mapping(nodes)) == _reference_root([r.leaf_hash for r in receipts])
