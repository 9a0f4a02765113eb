"""The customer's view of the log, as her export reads it: pages proved against one given head, and what
each supplier was permitted, from her own decisions only."""

from __future__ import annotations

from typing import Any

from infomediary.database import unit_of_work
from infomediary.policylog import kinds
from infomediary.policylog.customer_view import customer_log_against, permitted_to, suppliers_permitted
from infomediary.policylog.merkle import leaf_hash
from infomediary.policylog.proof_verification import verify_inclusion
from infomediary.policylog.service import append_many, log_pseudonym
from infomediary.runtime import Runtime
from tests.fixtures.policylog import decision, sign_head

HER = "sub_her"
SOMEONE = "sub_someone_else"


def _about(customer_id: str, runtime: Runtime, i: int, **extra: Any) -> dict[str, Any]:
    return {
        **decision(i, **extra),
        "subject": log_pseudonym(runtime, customer_id),
        "details": {"release_kind": "pseudonymous_slice"},
    }


def _append(runtime: Runtime, entries: list[dict[str, Any]]) -> None:
    with unit_of_work(runtime.session_factory) as session:
        append_many(session, entries)


def test_every_page_proves_against_the_head_given_even_after_a_newer_one(runtime: Runtime) -> None:
    _append(runtime, [_about(HER if i % 2 else SOMEONE, runtime, i) for i in range(9)])
    head = sign_head(runtime)
    _append(runtime, [_about(HER, runtime, 9), _about(SOMEONE, runtime, 10)])
    sign_head(runtime)  # newer: the pages below still prove against `head`
    lines, after = [], -1
    with runtime.read_session_factory() as session:
        while True:
            page = customer_log_against(session, runtime, HER, head, after=after, limit=2)
            assert page.head == head
            lines += page.lines
            if page.next_cursor is None:
                break
            after = page.next_cursor
    assert [line.leaf_index for line in lines] == [1, 3, 5, 7, 9]
    for line in lines[:-1]:
        assert line.audit_path is not None
        verify_inclusion(
            leaf_hash(line.entry), line.leaf_index, head.tree_size, line.audit_path, head.root_hash
        )
    assert lines[-1].audit_path is None  # newer than the head given
    with runtime.read_session_factory() as session:
        unsigned = customer_log_against(session, runtime, HER, None, limit=10)
    assert [line.audit_path for line in unsigned.lines] == [None] * 5


def test_what_each_supplier_was_permitted_is_her_own_permits_only(runtime: Runtime) -> None:
    _append(
        runtime,
        [
            _about(HER, runtime, 0, supplier_id="sup_b"),
            _about(HER, runtime, 1, supplier_id="sup_a"),
            _about(HER, runtime, 2, supplier_id="sup_a", permit=False),  # denied: nothing taken
            _about(SOMEONE, runtime, 3, supplier_id="sup_c"),  # about another customer
            _about(HER, runtime, 4, supplier_id="sup_a", purpose="personalisation"),
            {**_about(HER, runtime, 5, supplier_id="sup_a"), "kind": kinds.CONSENT_GRANTED, "decision": None},
        ],
    )
    with runtime.read_session_factory() as session:
        assert suppliers_permitted(session, runtime, HER) == ["sup_a", "sup_b"]
        first = permitted_to(session, runtime, HER, "sup_a", limit=1)
        rest = permitted_to(session, runtime, HER, "sup_a", after=first[-1].leaf_index, limit=10)
        assert permitted_to(session, runtime, HER, "sup_c", limit=10) == []
    found = [*first, *rest]
    assert [(p.leaf_index, p.purpose) for p in found] == [(1, "marketing"), (4, "personalisation")]
    assert {(p.release_kind, p.reason) for p in found} == {
        ("pseudonymous_slice", "rule 1"),
        ("pseudonymous_slice", "rule 4"),
    }
    assert found[0].categories == ["interests"]
