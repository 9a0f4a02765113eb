"""The wholeness checks: whole logs of every small size pass, and each way a log can come apart is named."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, event, insert

from infomediary.database import unit_of_work
from infomediary.policylog.integrity import LogIntegrity, NodeShortfall, full_check, quick_check
from infomediary.policylog.merkle import root_hash_nodes
from infomediary.policylog.models import PolicyLogState
from infomediary.policylog.service import append_many
from infomediary.runtime import Runtime
from tests.fixtures.databases import empty_tables
from tests.fixtures.policylog import decision, drop_leaf, drop_nodes, fill_log, set_size, sign_head, tamper


def _quick(runtime: Runtime) -> LogIntegrity:
    with runtime.read_session_factory() as session:
        return quick_check(session)


def _full(runtime: Runtime) -> LogIntegrity:
    with runtime.read_session_factory() as session:
        return full_check(session)


def test_an_empty_database_without_a_state_row_is_whole(runtime: Runtime) -> None:
    with runtime.engine.begin() as conn:
        conn.execute(delete(PolicyLogState))  # a database emptied, or never appended to since
    for found in (_quick(runtime), _full(runtime)):
        assert found.whole, found.problems
        assert found.stored_size is None and found.last_leaf_index is None and found.size == 0
    assert _full(runtime).entries == 0


def test_a_migrated_empty_log_is_whole(runtime: Runtime) -> None:
    with runtime.engine.begin() as conn:
        conn.execute(delete(PolicyLogState))
        conn.execute(insert(PolicyLogState).values(id=1, size=0))  # what the migration writes
    assert _quick(runtime).whole and _full(runtime).whole
    assert _full(runtime).describe() == "the policy log is whole at size 0"


def test_a_whole_log_is_whole_at_every_size_up_to_70(runtime: Runtime) -> None:
    for size in range(71):
        if size:
            fill_log(runtime, 1, start=size)
        quick, full = _quick(runtime), _full(runtime)
        assert quick.whole, (size, quick.problems)
        assert full.whole, (size, full.problems)
        assert (full.size, full.entries, full.last_leaf_index) == (
            size,
            size,
            size - 1 if size else None,
        )


def test_batches_of_any_length_leave_a_whole_log(runtime: Runtime) -> None:
    for batch in (1, 2, 3, 5, 8, 13, 21):
        fill_log(runtime, batch)
    assert _full(runtime).whole and _full(runtime).size == 53


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), size=st.integers(min_value=1, max_value=70))
def test_dropping_any_one_entry_and_its_nodes_is_found_by_both_checks(
    runtime: Runtime, data: st.DataObject, size: int
) -> None:
    at = data.draw(st.integers(min_value=0, max_value=size - 1), label="dropped leaf")
    try:
        fill_log(runtime, size)
        drop_leaf(runtime, at)
        quick, full = _quick(runtime), _full(runtime)
        assert not quick.whole, (size, at)
        assert quick.missing_frontier, "the frontier node over the gap is gone"
        assert not full.whole and full.entries == size - 1
        assert sum(s.expected - s.stored for s in full.node_shortfalls) == sum(
            1 for level in range(size.bit_length()) if (at >> level) < size >> level
        ), "every stored ancestor of the dropped leaf is counted missing"
    finally:
        empty_tables(runtime.engine)


def test_a_size_bumped_past_the_entries_is_named(runtime: Runtime) -> None:
    """The incident's shape: reservations that outlived their entries."""
    fill_log(runtime, 12)
    set_size(runtime, 15)
    quick = _quick(runtime)
    assert not quick.whole
    assert "stored size 15 but the highest leaf index is 11" in quick.problems
    # 15 = 8 + 4 + 2 + 1: the last two perfect nodes would cover leaves 12..14, never appended.
    assert quick.missing_frontier == ((1, 6), (0, 14))
    assert "2 of the 4 perfect nodes a tree head of size 15 needs are not stored" in quick.describe()
    full = _full(runtime)
    assert "12 entries stored for size 15 (3 missing)" in full.problems


def test_a_gap_in_the_middle_is_named_though_the_last_index_matches_the_size(runtime: Runtime) -> None:
    fill_log(runtime, 20)
    drop_leaf(runtime, 5)
    quick = _quick(runtime)
    assert quick.last_leaf_index == 19 and quick.stored_size == 20
    # 20 = 16 + 4: (4, 0) covers leaf 5.
    assert quick.missing_frontier == ((4, 0),)
    assert quick.problems == (
        "1 of the 2 perfect nodes a tree head of size 20 needs are not stored: (level=4, index=0)",
    )
    full = _full(runtime)
    assert full.entries == 19
    assert full.node_shortfalls == tuple(
        NodeShortfall(level, 20 // 2**level - 1, 20 // 2**level) for level in range(5)
    )
    assert "5 perfect nodes missing under size 20" in full.describe()


def test_a_missing_frontier_node_is_named(runtime: Runtime) -> None:
    fill_log(runtime, 7)
    assert root_hash_nodes(7) == [(2, 0), (1, 2), (0, 6)]
    drop_nodes(runtime, [(1, 2)])
    quick = _quick(runtime)
    assert quick.missing_frontier == ((1, 2),)
    assert "(level=1, index=2)" in quick.describe()
    assert _full(runtime).node_shortfalls == (NodeShortfall(1, 2, 3),)


def test_only_the_full_check_sees_what_a_stored_frontier_node_hides(runtime: Runtime) -> None:
    """An inner node or an entry missing under a frontier node that is still stored: cheap check blind."""
    fill_log(runtime, 16)
    drop_nodes(runtime, [(1, 3)])
    assert _quick(runtime).whole
    assert _full(runtime).node_shortfalls == (NodeShortfall(1, 7, 8),)
    tamper(runtime, "delete", at=9)
    assert _quick(runtime).whole
    full = _full(runtime)
    assert "15 entries stored for size 16 (1 missing)" in full.problems


def test_entries_without_a_state_row_are_named_and_the_next_append_heals_them(runtime: Runtime) -> None:
    fill_log(runtime, 3)
    with runtime.engine.begin() as conn:
        conn.execute(delete(PolicyLogState))
    found = _full(runtime)
    assert found.stored_size is None and not found.whole
    assert found.problems[0].startswith("no stored size (policy_log_state has no row) but entries up to leaf")
    with unit_of_work(runtime.session_factory) as session:
        append_many(session, [decision(3)])
    assert _full(runtime).whole


def test_a_signed_tree_head_beyond_the_stored_size_is_named(runtime: Runtime) -> None:
    """A log rolled back under its signed heads (the state and entries, but not the heads, restored)."""
    fill_log(runtime, 10)
    sign_head(runtime)
    for at in (9, 8):
        drop_leaf(runtime, at)
    set_size(runtime, 8)
    found = _full(runtime)
    assert found.problems == (
        "a signed tree head covers 10 entries, more than the stored size 8: "
        "the log has lost entries it signed",
    )


def test_the_figures_are_plain_values_for_a_log_line(runtime: Runtime) -> None:
    fill_log(runtime, 6)
    set_size(runtime, 9)
    assert _quick(runtime).figures() == {
        "stored_size": 9,
        "last_leaf_index": 5,
        "signed_size": None,
        "missing_frontier_nodes": [[3, 0], [0, 8]],
        "thorough": False,
    }
    full = _full(runtime).figures()
    assert full["entries"] == 6 and full["missing_nodes_by_level"] == {"0": 3, "1": 1, "2": 1, "3": 1}


@pytest.mark.committing  # listens on the reading engine's own connections
@pytest.mark.parametrize("size", [1, 2, 63, 64, 65])
def test_the_quick_check_reads_only_the_frontier(runtime: Runtime, size: int) -> None:
    """Two statements whatever the size: the figures, then popcount(size) nodes by primary key."""
    fill_log(runtime, size)
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(runtime.read_engine, "before_cursor_execute", record)
    try:
        assert _quick(runtime).whole
    finally:
        event.remove(runtime.read_engine, "before_cursor_execute", record)
    assert len(statements) == 2, statements
    assert "count(" not in " ".join(statements).lower()
