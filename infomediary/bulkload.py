"""Bulk inserts of many plain rows in the caller's transaction: COPY on PostgreSQL, executemany elsewhere.

For seeding (the demo population): at a million customers the tens of millions of sealed activity rows are
where the time goes, and PostgreSQL's COPY takes them several times faster than multi-row INSERTs. On
SQLite an INSERT prepared once and run for every row (SQLAlchemy's executemany) is already the fast path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table

from infomediary.database import Base, WriteSession


def insert_rows(session: WriteSession, model: type[Base], rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` (dicts with the same keys, values as the ORM would take them) into `model`'s table."""
    if not rows:
        return
    table = cast(Table, model.__table__)
    connection = session.connection()
    if connection.dialect.driver == "asyncpg":
        # The request path (a registration's data key): few rows, through SQLAlchemy, which begins the
        # transaction on asyncpg before the first statement (a COPY straight to the driver would not).
        connection.execute(table.insert(), [dict(row) for row in rows])
        return
    columns = list(rows[0])
    processors = [table.c[name].type.bind_processor(connection.dialect) for name in columns]
    # Straight to the driver, each value through its column type's own bind processing (UTC datetimes,
    # SQLite's datetime text): SQLAlchemy's per-row statement machinery costs more than the insert itself.
    # Many rows share a value of a processed type (the batch's `now`), so each distinct one is done once.
    caches: list[dict[datetime, Any]] = [{} for _ in columns]

    def values(row: Mapping[str, Any]) -> list[Any]:
        out = []
        for name, process, cache in zip(columns, processors, caches, strict=True):
            value = row[name]
            # Bytes go to either driver as they are (SQLite's processor only wraps them in a memoryview).
            if process is None or value is None or isinstance(value, bytes):
                pass
            elif isinstance(value, datetime):
                try:
                    value = cache[value]
                except KeyError:
                    value = cache[value] = process(value)
            else:
                value = process(value)
            out.append(value)
        return out

    # Column names come from the table's own metadata, never from input.
    quoted = ", ".join(f'"{name}"' for name in columns)
    if connection.dialect.name != "postgresql":
        marks = ", ".join("?" for _ in columns)
        connection.exec_driver_sql(
            f'INSERT INTO "{table.name}" ({quoted}) VALUES ({marks})',  # noqa: S608 - names from metadata
            [tuple(values(row)) for row in rows],
        )
        return
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:  # type: ignore[union-attr]
        for row in rows:
            copy.write_row(values(row))
