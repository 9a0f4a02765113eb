"""Whether the stored policy log is whole: its stored size, its entries and its perfect nodes agree.

Why this exists: a concurrency bug once left logs whose `policy_log_state.size` had run ahead of the entries
(1,889 against 1,459, with gaps in the middle) and whose perfect nodes over the gaps were never computed.
Every tree head of that size then needed a node that is not stored (`KeyError: perfect node ... not in
store`), and every logged write after it failed the same way, for ever. Such a log has to be found and
named, by start-up and by `/readyz`, instead of being served as if it were whole.

Two levels, both reading only:

* `quick_check`, for `/readyz`, which load balancers call every few seconds: one statement for the stored
  size, the highest leaf index and the largest signed tree head (each a single primary-key or index lookup),
  and one for the popcount(size) perfect nodes that a tree head of that size folds (the frontier). A gap
  anywhere in the log leaves every perfect ancestor of the missing leaves uncomputed, and one of those
  ancestors is a frontier node, so a missing frontier node reveals a gap that the highest index cannot.
* `full_check`, once at start-up and from `infomediary audit check`: also counts the entries (they must
  number exactly the size) and the perfect nodes at every level (size >> level of them). That scans both
  tables, too slow for a probe, but it finds what the quick check cannot: an entry or an inner node missing
  under a frontier node that is still stored.

Neither recomputes a hash: whether the entries hash to the signed roots is `infomediary audit verify`'s work.

Both are safe against concurrent appends without a snapshot isolation level: the size, the counts and the
highest index come from one statement (one snapshot), and the nodes read afterwards are only those a tree of
that size needs. An append commits its entries, its nodes and the new size together and nodes are never
deleted, so the nodes of a committed size are all visible to any later statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from infomediary.policylog.merkle import NodeId, root_hash_nodes
from infomediary.policylog.models import PolicyLogEntry, PolicyLogNode, PolicyLogState, PolicyLogTreeHead
from infomediary.policylog.nodes import fetch_nodes
from infomediary.policylog.service import STATE_ROW

__all__ = ["LogIntegrity", "NodeShortfall", "full_check", "quick_check"]

_SHOWN = 5  # nodes or levels named in a message; the rest are counted

# Built once, like service._SIZE: the probe runs them every few seconds. Scalar subqueries of one statement
# read one snapshot on PostgreSQL (and SQLite), so the figures are from the same moment.
_STORED_SIZE = select(PolicyLogState.size).where(PolicyLogState.id == STATE_ROW).scalar_subquery()
_LAST_LEAF = select(func.max(PolicyLogEntry.leaf_index)).scalar_subquery()
_SIGNED_SIZE = select(func.max(PolicyLogTreeHead.tree_size)).scalar_subquery()
_ENTRY_COUNT = select(func.count()).select_from(PolicyLogEntry).scalar_subquery()
_QUICK = select(_STORED_SIZE, _LAST_LEAF, _SIGNED_SIZE)
_FULL = select(_STORED_SIZE, _LAST_LEAF, _SIGNED_SIZE, _ENTRY_COUNT)


@dataclass(frozen=True)
class NodeShortfall:
    """A level of the tree holding fewer perfect nodes than a tree of the stored size has."""

    level: int
    stored: int
    expected: int


@dataclass(frozen=True)
class LogIntegrity:
    """What was read, and `problems`: every way in which it disagrees, worded for an operator.

    `stored_size` is None when the state row is missing (a fresh database: appends create it);
    `last_leaf_index` is None without entries. `entries` and `node_shortfalls` are counted by the full check
    only (None and empty after the quick one).
    """

    thorough: bool
    stored_size: int | None
    last_leaf_index: int | None
    signed_size: int | None
    missing_frontier: tuple[NodeId, ...]
    entries: int | None = None
    node_shortfalls: tuple[NodeShortfall, ...] = ()

    @property
    def size(self) -> int:
        """The size the log is served at: reads take a missing state row as an empty log."""
        return self.stored_size or 0

    @property
    def problems(self) -> tuple[str, ...]:
        found: list[str] = []
        if self.stored_size is None:
            if self.last_leaf_index is not None:
                found.append(
                    f"no stored size (policy_log_state has no row) but entries up to leaf index "
                    f"{self.last_leaf_index:,}: the log is served as empty"
                )
        elif self.last_leaf_index is None:
            if self.stored_size:
                found.append(f"stored size {self.stored_size:,} but no entries")
        elif self.last_leaf_index + 1 != self.stored_size:
            found.append(
                f"stored size {self.stored_size:,} but the highest leaf index is {self.last_leaf_index:,}"
            )
        if self.missing_frontier:
            needed = len(root_hash_nodes(self.size))
            found.append(
                f"{len(self.missing_frontier)} of the {needed} perfect nodes a tree head of size "
                f"{self.size:,} needs are not stored: {_nodes(self.missing_frontier)}"
            )
        if self.entries is not None and self.entries != self.size:
            gap = (
                f"{self.size - self.entries:,} missing"
                if self.entries < self.size
                else f"{self.entries - self.size:,} beyond it"
            )
            found.append(f"{self.entries:,} entries stored for size {self.size:,} ({gap})")
        if self.node_shortfalls:
            missing = sum(s.expected - s.stored for s in self.node_shortfalls)
            levels = ", ".join(
                f"level {s.level}: {s.stored:,} of {s.expected:,}" for s in self.node_shortfalls[:_SHOWN]
            )
            more = (
                f" and {len(self.node_shortfalls) - _SHOWN} more levels"
                if len(self.node_shortfalls) > _SHOWN
                else ""
            )
            found.append(f"{missing:,} perfect nodes missing under size {self.size:,} ({levels}{more})")
        if self.signed_size is not None and self.signed_size > self.size:
            found.append(
                f"a signed tree head covers {self.signed_size:,} entries, more than the stored size "
                f"{self.size:,}: the log has lost entries it signed"
            )
        return tuple(found)

    @property
    def whole(self) -> bool:
        return not self.problems

    def describe(self) -> str:
        """One line for an operator: the problems, or the size at which the log is whole."""
        if self.whole:
            return f"the policy log is whole at size {self.size:,}"
        return "the policy log is not whole: " + "; ".join(self.problems)

    def figures(self) -> dict[str, Any]:
        """The figures as log fields (plain values, no hashes and nothing personal)."""
        figures: dict[str, Any] = {
            "stored_size": self.stored_size,
            "last_leaf_index": self.last_leaf_index,
            "signed_size": self.signed_size,
            "missing_frontier_nodes": [list(node) for node in self.missing_frontier],
            "thorough": self.thorough,
        }
        if self.thorough:
            figures["entries"] = self.entries
            figures["missing_nodes_by_level"] = {
                str(s.level): s.expected - s.stored for s in self.node_shortfalls
            }
        return figures


def _nodes(nodes: tuple[NodeId, ...]) -> str:
    named = ", ".join(f"(level={level}, index={index})" for level, index in nodes[:_SHOWN])
    return named + (f" and {len(nodes) - _SHOWN} more" if len(nodes) > _SHOWN else "")


def _missing_frontier(session: Session, size: int) -> tuple[NodeId, ...]:
    needed = root_hash_nodes(size)
    stored = fetch_nodes(session, needed)
    return tuple(node for node in needed if node not in stored)


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def quick_check(session: Session) -> LogIntegrity:
    """The probe's check: the stored size against the highest leaf index and the signed tree heads, and the
    frontier nodes of that size. Two statements of a few index lookups each, whatever the log's size."""
    stored, last, signed = session.execute(_QUICK).one()
    stored_size = _optional_int(stored)
    return LogIntegrity(
        thorough=False,
        stored_size=stored_size,
        last_leaf_index=_optional_int(last),
        signed_size=_optional_int(signed),
        missing_frontier=_missing_frontier(session, stored_size or 0),
    )


def _node_shortfalls(session: Session, size: int) -> tuple[NodeShortfall, ...]:
    """Levels with fewer nodes than a tree of `size` has, counting only nodes inside it.

    Node (level, i) covers leaves [i * 2**level, (i + 1) * 2**level), so a tree of `size` has exactly the
    nodes i < size >> level at each level. Nodes beyond it are not counted: an append committed since the
    size was read may have added them.
    """
    levels = range(size.bit_length())
    if not levels:
        return ()
    inside = or_(
        *(and_(PolicyLogNode.level == level, PolicyLogNode.node_index < size >> level) for level in levels)
    )
    rows = session.execute(
        select(PolicyLogNode.level, func.count()).where(inside).group_by(PolicyLogNode.level)
    )
    stored = {int(level): int(count) for level, count in rows}
    return tuple(
        NodeShortfall(level, stored.get(level, 0), size >> level)
        for level in levels
        if stored.get(level, 0) != size >> level
    )


def full_check(session: Session) -> LogIntegrity:
    """The start-up check: the quick one, plus the number of entries and of perfect nodes at every level.

    A scan of both tables: O(size), for start-up and the command line, not for a probe. Measured on a log of
    100,000 entries: about 50 ms on PostgreSQL and 90 ms on SQLite (the quick check: 0.7 and 0.2 ms).
    """
    stored, last, signed, count = session.execute(_FULL).one()
    stored_size = _optional_int(stored)
    size = stored_size or 0
    return LogIntegrity(
        thorough=True,
        stored_size=stored_size,
        last_leaf_index=_optional_int(last),
        signed_size=_optional_int(signed),
        missing_frontier=_missing_frontier(session, size),
        entries=int(count),
        node_shortfalls=_node_shortfalls(session, size),
    )
