"""The policy-log service on a real database: appends, stored nodes, validation, the events wired so far."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from infomediary.database import unit_of_work
from infomediary.flows import account_registered, supplier_registered
from infomediary.policylog import kinds, proofs, treehead
from infomediary.policylog.checkpoint import open_checkpoint
from infomediary.policylog.entry import decode_entry
from infomediary.policylog.errors import BadLogRange, EntryError
from infomediary.policylog.merkle import ReferenceTree
from infomediary.policylog.models import PolicyLogEntry, PolicyLogNode
from infomediary.policylog.proof_verification import verify_consistency, verify_inclusion
from infomediary.policylog.service import append, append_many, log_pseudonym, tree_size
from infomediary.runtime import Runtime
from infomediary.sanctions import status as supplier_status
from infomediary.suppliers import service as suppliers
from infomediary.suppliers.models import SupplierStatus
from tests.fixtures.policylog import SUBJECT, decision, fill_log, sign_head, stored_entries


def _all_nodes(runtime: Runtime) -> dict[tuple[int, int], bytes]:
    with runtime.read_session_factory() as session:
        rows = session.execute(select(PolicyLogNode.level, PolicyLogNode.node_index, PolicyLogNode.hash))
        return {(level, index): bytes(h) for level, index, h in rows}


def _expected_nodes(leaves: list[bytes]) -> dict[tuple[int, int], bytes]:
    ref = ReferenceTree(leaves)
    out = {}
    level = 0
    while (1 << level) <= len(leaves):
        width = 1 << level
        for index in range(len(leaves) // width):
            sub = ReferenceTree(leaves[index * width : (index + 1) * width])
            out[(level, index)] = sub.root()
        level += 1
    assert ref.root() is not None
    return out


def test_single_and_batched_appends_store_exactly_the_reference_tree(runtime: Runtime) -> None:
    with unit_of_work(runtime.session_factory) as session:
        first = append(session, decision(0))
        assert first.leaf_index == 0
    fill_log(runtime, 12, start=1)  # one batch
    with unit_of_work(runtime.session_factory) as session:
        for i in range(13, 21):  # and single appends after a batch
            assert append(session, decision(i)).leaf_index == i
    entries = stored_entries(runtime)
    ref = ReferenceTree()
    for data in entries:
        ref.append_entry(data)
    assert len(entries) == 21
    assert _all_nodes(runtime) == _expected_nodes(ref.leaves)
    with runtime.session_factory() as session:
        assert tree_size(session) == 21
        for index in (0, 7, 20):
            path = proofs.inclusion(session, index, 21)
            assert path == ref.inclusion_proof(index, 21)
            verify_inclusion(ref.leaves[index], index, 21, path, ref.root())
        proof = proofs.consistency(session, 13, 21)
        verify_consistency(13, 21, ref.root(13), ref.root(21), proof)


def test_a_signed_tree_head_opens_with_the_published_key(runtime: Runtime) -> None:
    fill_log(runtime, 5)
    head = sign_head(runtime)
    checkpoint = open_checkpoint(
        head.checkpoint, treehead.verifier_key(runtime), runtime.settings.resolved_log_origin
    )
    ref = ReferenceTree()
    for data in stored_entries(runtime):
        ref.append_entry(data)
    assert (checkpoint.size, checkpoint.root_hash) == (5, ref.root())
    assert f"timestamp {head.timestamp_ms}" in checkpoint.extensions
    # Not grown: the same head comes back without a new signature.
    assert sign_head(runtime, force=False) == head


def test_an_empty_log_has_a_signed_empty_head(runtime: Runtime) -> None:
    head = sign_head(runtime, force=False)
    assert head.tree_size == 0
    assert head.root_hash == ReferenceTree().root()


@pytest.mark.parametrize(
    "entry",
    [
        {"kind": "made.up"},
        {"kind": kinds.DECISION, "decision": "permit"},  # no reason
        {"kind": kinds.ACCOUNT_REGISTERED, "subject": "cus_0123456789abcdef0123456789abcdef"},  # raw id
        {"kind": kinds.ACCOUNT_REGISTERED, "email": "a@example.org"},  # unknown field
        {"kind": kinds.ACCOUNT_REGISTERED, "at": "2026-01-01 10:00:00+01:00"},  # not RFC 3339 UTC
        {
            "kind": kinds.RELEASE,
            "release": {"kind": "audience", "categories": [], "count": -1, "epsilon_milli": 1},
        },
    ],
)
def test_invalid_entries_are_refused_and_append_nothing(runtime: Runtime, entry: dict[str, object]) -> None:
    with pytest.raises(EntryError), unit_of_work(runtime.session_factory) as session:
        append(session, entry)
    assert stored_entries(runtime) == []


def test_out_of_range_proofs_are_refused_saying_what_is_wrong(runtime: Runtime) -> None:
    # The message is the problem's detail: it tells an auditor's client the rule, or the log's real size.
    fill_log(runtime, 3)
    with runtime.session_factory() as session:
        for call, message in (
            (lambda: proofs.inclusion(session, 3, 3), r"^need 0 <= leaf_index < tree_size$"),
            (lambda: proofs.inclusion(session, 0, 4), r"^tree_size 4 is larger than the log \(size 3\)$"),
            (lambda: proofs.consistency(session, 2, 4), r"^tree_size 4 is larger than the log \(size 3\)$"),
            (lambda: proofs.consistency(session, 3, 2), r"^need 0 <= first <= second$"),
            (lambda: proofs.entries(session, 3, 5), r"^start 3 is beyond the log \(size 3\)$"),
            (lambda: proofs.entries(session, 2, 1), r"^need 0 <= start <= end$"),
        ):
            with pytest.raises(BadLogRange, match=message):
                call()
        assert [e.leaf_index for e in proofs.entries(session, 1, 99)] == [1, 2]


def test_entries_returns_exactly_the_asked_range_as_stored(runtime: Runtime) -> None:
    fill_log(runtime, 5)
    stored = stored_entries(runtime)
    with runtime.session_factory() as session:
        first_three = proofs.entries(session, 0, 2)
        assert [e.leaf_index for e in proofs.entries(session, 4, 4)] == [4]
    assert [(e.leaf_index, e.entry) for e in first_three] == [(i, stored[i]) for i in range(3)]
    assert {(e.kind, e.supplier_id, e.purpose, e.decision) for e in first_three} == {
        (kinds.DECISION, "sup_test", "marketing", kinds.PERMIT)
    }


def test_entries_returns_at_most_a_thousand_from_start(runtime: Runtime) -> None:
    fill_log(runtime, 1002)
    with runtime.session_factory() as session:
        page = proofs.entries(session, 1, 5000)
    assert [e.leaf_index for e in page] == list(range(1, 1001))


def test_the_empty_tree_is_consistent_with_every_tree_without_a_proof(runtime: Runtime) -> None:
    fill_log(runtime, 3)
    ref = ReferenceTree()
    for data in stored_entries(runtime):
        ref.append_entry(data)
    with runtime.session_factory() as session:
        proof = proofs.consistency(session, 0, 3)
        assert proofs.consistency(session, 3, 3) == []  # a tree is consistent with itself
    assert proof == []
    verify_consistency(0, 3, ref.root(0), ref.root(3), proof)


OTHER_SUBJECT = "cd" * 32


def test_a_subjects_entries_are_only_theirs_paged_by_leaf_index(runtime: Runtime) -> None:
    # Leaves 0-9 alternate between the fixture's subject (even) and another (odd).
    with unit_of_work(runtime.session_factory) as session:
        append_many(
            session,
            [decision(i) if i % 2 == 0 else {**decision(i), "subject": OTHER_SUBJECT} for i in range(10)],
        )
    stored = stored_entries(runtime)
    with runtime.session_factory() as session:

        def leaves(**page: Any) -> list[int]:
            found = proofs.about_subject(session, SUBJECT, **page)
            assert all(e.entry == stored[e.leaf_index] for e in found)
            return [e.leaf_index for e in found]

        assert leaves(after=-1, limit=100) == [0, 2, 4, 6, 8]
        assert leaves(after=2, limit=100) == [4, 6, 8]  # strictly after
        assert leaves(after=-1, limit=100, before=6) == [0, 2, 4]  # strictly before
        assert leaves(after=-1, limit=2) == [0, 2]  # the oldest first...
        assert leaves(after=-1, limit=2, newest_first=True) == [8, 6]  # ...or the newest
        assert leaves(after=0, limit=2, before=8, newest_first=True) == [6, 4]


def test_several_audit_paths_at_once_are_those_of_the_reference_tree(runtime: Runtime) -> None:
    fill_log(runtime, 7)
    ref = ReferenceTree()
    for data in stored_entries(runtime):
        ref.append_entry(data)
    with runtime.session_factory() as session:
        paths = proofs.inclusion_many(session, [6, 0, 3, 7, -1], 6)
    # Leaves outside the tree of 6 (7, -1, and 6 itself) have no path; the others are checked against it.
    assert paths == {i: ref.inclusion_proof(i, 6) for i in (0, 3)}
    for i, path in paths.items():
        verify_inclusion(ref.leaves[i], i, 6, path, ref.root(6))


def test_registration_logs_the_customer_only_as_a_log_pseudonym(runtime: Runtime) -> None:
    with unit_of_work(runtime.session_factory) as session:
        account = account_registered.register(
            session, runtime, email="p@example.org", password="a long enough password"
        )
    [data] = stored_entries(runtime)
    entry = decode_entry(data)
    assert entry["kind"] == kinds.ACCOUNT_REGISTERED
    assert entry["subject"] == log_pseudonym(runtime, account.subject_id)
    for identifier in (account.subject_id, account.customer_id):
        assert identifier.encode() not in data
    assert b"example.org" not in data
    # Distinct from what any supplier could hold: a different key.
    assert runtime.keys.secret("log_pseudonym") != runtime.keys.secret("supplier_pseudonym")


def test_supplier_registration_and_status_changes_are_logged(runtime: Runtime) -> None:
    with unit_of_work(runtime.session_factory) as session:
        view, _ = supplier_registered.register_supplier(session, name="Acme", scopes=["audiences:read"])
        supplier_status.set_status(session, view.id, SupplierStatus.SUSPENDED)
    logged = [decode_entry(d) for d in stored_entries(runtime)]
    assert [(e["kind"], e["supplier_id"]) for e in logged] == [
        (kinds.SUPPLIER_REGISTERED, view.id),
        (kinds.SUPPLIER_STATUS_CHANGED, view.id),
    ]
    assert logged[1]["details"] == {"status": "suspended"}


class InjectedFailure(Exception):
    pass


def test_an_action_that_fails_after_its_append_leaves_neither(runtime: Runtime) -> None:
    with unit_of_work(runtime.session_factory) as session:
        view, _ = supplier_registered.register_supplier(session, name="Acme", scopes=[])
    before = stored_entries(runtime)

    def suspend_then_fail() -> None:
        with unit_of_work(runtime.session_factory) as session:
            supplier_status.set_status(session, view.id, SupplierStatus.SUSPENDED)
            raise InjectedFailure

    with pytest.raises(InjectedFailure):
        suspend_then_fail()
    assert stored_entries(runtime) == before
    with runtime.session_factory() as session:
        assert suppliers.get_own(session, view.id).status == SupplierStatus.ACTIVE
        assert tree_size(session) == len(before)
    # ...and the log continues without a gap or a fork.
    with unit_of_work(runtime.session_factory) as session:
        assert append(session, decision(1)).leaf_index == len(before)


def test_appends_recreate_a_missing_state_row(runtime: Runtime) -> None:
    fill_log(runtime, 3)
    from sqlalchemy import delete

    from infomediary.policylog.models import PolicyLogState

    with runtime.engine.begin() as conn:
        conn.execute(delete(PolicyLogState))
    with unit_of_work(runtime.session_factory) as session:
        assert append_many(session, [decision(9)])[0].leaf_index == 3
        assert session.scalar(select(func.count()).select_from(PolicyLogEntry)) == 4
