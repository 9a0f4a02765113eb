"""Parameters several routes take, declared once on the shared types of `infomediary.text`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Query

from infomediary.text import MAX_SERIAL, BigSerialId, Index, Opaque, SerialId

# Stored with what it guards (an offer, a ledger transaction): printable ASCII like every key clients send.
IdempotencyKey = Annotated[Opaque | None, Header(alias="Idempotency-Key")]

# Pages of rows in id order, the cursor the last id of the previous page: bounded by the id column's range.
_CURSOR = "`next_cursor` of the previous page; omit for the first."
SerialCursor = Annotated[SerialId | None, Query(description=_CURSOR)]
BigSerialCursor = Annotated[BigSerialId | None, Query(description=_CURSOR)]
# The policy log's two histories: tree heads by their number (a serial column), entries by leaf index.
TreeHeadCursor = Annotated[int | None, Query(ge=0, le=MAX_SERIAL)]
LeafCursor = Annotated[Index | None, Query()]
