"""Fetching stored nodes by (level, index): any count, padding and chunking, duplicates, missing nodes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from infomediary.policylog.models import PolicyLogNode
from infomediary.policylog.nodes import fetch_nodes
from infomediary.runtime import Runtime
from tests.fixtures.policylog import fill_log


def _stored(runtime: Runtime) -> dict[tuple[int, int], bytes]:
    with runtime.read_session_factory() as session:
        rows = session.execute(select(PolicyLogNode.level, PolicyLogNode.node_index, PolicyLogNode.hash))
        return {(level, index): bytes(h) for level, index, h in rows}


@pytest.mark.parametrize("count", [0, 1, 7, 8, 9, 33, 64, 65, 150])
def test_fetch_returns_exactly_the_asked_nodes(runtime: Runtime, count: int) -> None:
    fill_log(runtime, 100)
    stored = _stored(runtime)
    asked = sorted(stored)[::-1][:count]  # across levels, not in key order
    with runtime.read_session_factory() as session:
        assert fetch_nodes(session, asked) == {node: stored[node] for node in asked}


def test_fetch_skips_missing_nodes_and_tolerates_duplicates(runtime: Runtime) -> None:
    fill_log(runtime, 5)
    stored = _stored(runtime)
    asked = [(0, 4), (0, 5), (2, 0), (2, 1), (0, 4), (40, 0)]
    with runtime.read_session_factory() as session:
        assert fetch_nodes(session, asked) == {(0, 4): stored[(0, 4)], (2, 0): stored[(2, 0)]}
