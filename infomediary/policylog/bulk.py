"""Writing a batch of entry and node rows in the caller's transaction, the fastest way each backend offers.

Rows arrive as tuples in the column order below. Per-row work in the database layer dominated batched
appends once entries were cheap to encode (SQLAlchemy builds and type-processes a parameter dict per row,
psycopg then runs a pipelined statement per row), so:

* PostgreSQL: one `INSERT ... SELECT FROM unnest(arrays)` per table and chunk; psycopg adapts whole arrays
  in C and the fixed text is prepared once per connection.
* SQLite: the driver's `executemany` with tuples; it loops in C and reuses one prepared statement.

`created_at` is the same for the whole batch, so its value goes through the column type's bind processor
once (a timezone-aware UTC datetime, stored by SQLite in SQLAlchemy's usual text format).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from infomediary.policylog.models import PolicyLogEntry

ENTRY_COLUMNS = (
    "leaf_index",
    "entry",
    "leaf_hash",
    "kind",
    "subject",
    "supplier_id",
    "purpose",
    "decision",
    "categories",
    "release_count",
    "epsilon_milli",
)
"""Order of the values in an entry row; `created_at` is added per batch."""

NODE_COLUMNS = ("level", "node_index", "hash")

_PG_TYPES = {
    "leaf_index": "bigint",
    "entry": "bytea",
    "leaf_hash": "bytea",
    "kind": "text",
    "subject": "text",
    "supplier_id": "text",
    "purpose": "text",
    "decision": "text",
    "categories": "text",
    "release_count": "bigint",
    "epsilon_milli": "bigint",
    "level": "smallint",
    "node_index": "bigint",
    "hash": "bytea",
}

# Bounds the size of one statement's arrays; a 10,000-entry batch is one chunk.
PG_CHUNK = 10_000


def _pg_insert(table: str, columns: Sequence[str], extra: str = "", extra_value: str = "") -> Any:
    arrays = ", ".join(f"CAST(:{name} AS {_PG_TYPES[name]}[])" for name in columns)
    names = ", ".join(columns) + (f", {extra}" if extra else "")
    values = "u.*" + (f", {extra_value}" if extra_value else "")
    # Only fixed identifiers go into the text; every value is bound.
    return text(f"INSERT INTO {table} ({names}) SELECT {values} FROM unnest({arrays}) AS u")  # noqa: S608


def _sqlite_insert(table: str, columns: Sequence[str]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"  # noqa: S608


_PG_ENTRIES = _pg_insert(
    "policy_log_entries", ENTRY_COLUMNS, "created_at", "CAST(:created_at AS timestamptz)"
)
_PG_NODES = _pg_insert("policy_log_nodes", NODE_COLUMNS)
_SQLITE_ENTRIES = _sqlite_insert("policy_log_entries", (*ENTRY_COLUMNS, "created_at"))
_SQLITE_NODES = _sqlite_insert("policy_log_nodes", NODE_COLUMNS)


def insert_rows(
    session: Session,
    entry_rows: Sequence[tuple[Any, ...]],
    node_rows: Sequence[tuple[Any, ...]],
    now: datetime,
) -> None:
    """Insert entry rows (ENTRY_COLUMNS order, all created at `now`) and node rows (NODE_COLUMNS order)."""
    connection = session.connection()
    dialect = connection.dialect
    processor = PolicyLogEntry.__table__.c.created_at.type.bind_processor(dialect)
    created_at = processor(now) if processor else now
    if dialect.name == "postgresql":
        for start in range(0, len(entry_rows), PG_CHUNK):
            columns = zip(*entry_rows[start : start + PG_CHUNK], strict=True)
            params = dict(zip(ENTRY_COLUMNS, map(list, columns), strict=True))
            connection.execute(_PG_ENTRIES, {**params, "created_at": created_at})
        for start in range(0, len(node_rows), PG_CHUNK):
            columns = zip(*node_rows[start : start + PG_CHUNK], strict=True)
            connection.execute(_PG_NODES, dict(zip(NODE_COLUMNS, map(list, columns), strict=True)))
        return
    if entry_rows:
        connection.exec_driver_sql(_SQLITE_ENTRIES, [(*row, created_at) for row in entry_rows])
    if node_rows:
        connection.exec_driver_sql(_SQLITE_NODES, list(node_rows))
