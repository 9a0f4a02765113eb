"""Reading stored perfect-subtree nodes by (level, index), the one query behind every proof and append.

A proof needs 20-40 scattered nodes, and at that size building and compiling a SQLAlchemy expression per
call cost several times more than the query itself. So the statements here are fixed SQL text, one per
backend, each written so the primary key (level, node_index) serves every pair:

* PostgreSQL: the pairs travel as two arrays and are joined through `unnest`; the text never changes, so
  psycopg prepares it after a few executions and the server skips parsing and planning.
* SQLite: an OR of `(level = ? AND node_index = ?)` terms, which SQLite runs as a MULTI-INDEX OR (one
  primary-key search per term); a row-value `IN (VALUES ...)` scans the whole table instead. Term counts
  are padded to a few fixed sizes (repeating the last pair, which the OR deduplicates) so the statement
  caches of SQLAlchemy and sqlite3 see only those shapes, and long lists are split to keep SQLite's
  expression depth small.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import TextClause, text
from sqlalchemy.orm import Session

from infomediary.policylog.merkle import NodeId

_PG_NODES = text(
    "SELECT n.level, n.node_index, n.hash"
    " FROM unnest(CAST(:levels AS smallint[]), CAST(:indexes AS bigint[])) AS w(level, node_index)"
    " JOIN policy_log_nodes AS n ON n.level = w.level AND n.node_index = w.node_index"
)

# Term counts a SQLite statement is padded to; the largest is also the chunk size for long lists.
_SQLITE_SHAPES = (8, 16, 32, 64)


@cache
def _sqlite_nodes(terms: int) -> TextClause:
    where = " OR ".join(f"(level = :l{i} AND node_index = :i{i})" for i in range(terms))
    # Only bind-parameter names built from an int go into the text; every value is bound.
    return text(f"SELECT level, node_index, hash FROM policy_log_nodes WHERE {where}")  # noqa: S608


def _fetch_sqlite(session: Session, nodes: Sequence[NodeId]) -> list[Any]:
    rows: list[Any] = []
    chunk = _SQLITE_SHAPES[-1]
    for start in range(0, len(nodes), chunk):
        part = nodes[start : start + chunk]
        terms = next(shape for shape in _SQLITE_SHAPES if shape >= len(part))
        params: dict[str, int] = {}
        for i in range(terms):
            level, index = part[min(i, len(part) - 1)]
            params[f"l{i}"] = level
            params[f"i{i}"] = index
        rows.extend(session.execute(_sqlite_nodes(terms), params))
    return rows


def fetch_nodes(session: Session, nodes: Sequence[NodeId]) -> dict[NodeId, bytes]:
    """The given perfect nodes that are stored (absent ones are simply missing from the result)."""
    if not nodes:
        return {}
    if session.get_bind().dialect.name == "postgresql":
        params = {"levels": [level for level, _ in nodes], "indexes": [index for _, index in nodes]}
        rows: Any = session.execute(_PG_NODES, params)
    else:
        rows = _fetch_sqlite(session, nodes)
    return {(level, index): bytes(value) for level, index, value in rows}
