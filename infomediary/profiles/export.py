"""The right to data portability: everything held about a customer, as one JSON document, streamed.

Format ``infomediary.export/v1`` (a JSON object, keys in this order)::

    format        "infomediary.export/v1"
    exported_at   RFC 3339 UTC
    account       {"id", "created_at"}
    restriction   {"restricted": bool, "since": time | null}
    profile       [{"key", "label", "category", "sensitivity", "value", "source", "updated_at"}], set only
    derived       recency/frequency/monetary/lifetime value, each with its "source"
    history       [{"id", "field", "old", "new", "actor", "changed_at"}], oldest first
    activity      [{"id", "kind", "occurred_at", "record": {...as posted...}}], oldest first

History and activity are read in keyset pages and written as they are read, so memory stays bounded
however much a customer has. The stream reads in one read transaction of its own, opened when the body
starts: a streaming body is sent after the request's session has ended. What would break the head is
checked first (`check`), in the request's session, so that it is a problem response rather than a 200
cut short.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from infomediary.customers import directory
from infomediary.customers import repository as customers
from infomediary.customers.errors import InvalidSession
from infomediary.database import AsyncReadSession, utcnow
from infomediary.offload import cpu_bound
from infomediary.profiles import datakeys, insights, repository, restriction
from infomediary.profiles import service as profiles
from infomediary.profiles.activity import open_record
from infomediary.runtime import Runtime

FORMAT = "infomediary.export/v1"
PAGE = 500


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    raise TypeError(f"cannot export {type(value).__name__}")


def _dumps(value: Any) -> str:
    return json.dumps(value, default=_default, ensure_ascii=False, separators=(",", ":"))


def check(session: Session, runtime: Runtime, customer_id: str) -> None:
    """Raise now what would break the export's head: a missing account, or a data key or profile that no
    longer opens (a key destroyed by erasure, an old backup restored). Run in the request's session, before
    the 200 is sent; the stream itself runs later, in a session of its own."""
    _head(session, runtime, customer_id)  # the derived figures open the data key, as the stream does


def _head(session: Session, runtime: Runtime, customer_id: str) -> dict[str, Any]:
    customer = customers.get(session, customer_id)
    # The customer id she is shown, never the internal one: a database backup holds that (`directory`).
    shown = directory.customer_id_of(runtime, customer_id)
    if customer is None or shown is None:
        raise InvalidSession()
    return {
        "format": FORMAT,
        "exported_at": utcnow(),
        "account": {"id": shown, "created_at": customer.created_at},
        "restriction": asdict(restriction.describe(session, customer_id)),
        "profile": [
            asdict(v) for v in profiles.read_profile(session, runtime, customer_id) if v.value is not None
        ],
        "derived": asdict(insights.derive(session, runtime, customer_id)),
    }


async def stream(
    open_session: Callable[[], AsyncReadSession], runtime: Runtime, customer_id: str
) -> AsyncIterator[bytes]:
    """Yield the export document in chunks of UTF-8 JSON, read in one transaction of its own.

    Its session (from `open_session`, the request path's read sessions) opens at the first chunk, when the
    response starts: by then the request's session has ended (the body is sent after it), so the export
    holds one connection, not two. Each page is read on the event loop and decrypted on the CPU pool
    (`infomediary.offload`): a page is hundreds of decryptions.
    """
    async with open_session() as session, session.begin():
        head, cipher = await session.run(_head_and_cipher, runtime, customer_id)
        yield _dumps(head)[:-1].encode()
        yield b',"history":['
        async for chunk in _pages(
            session,
            lambda s, after: repository.changes_page(s, customer_id, after, PAGE),
            lambda row: asdict(profiles.open_change(cipher, row)),
        ):
            yield chunk
        yield b'],"activity":['
        async for chunk in _pages(
            session,
            lambda s, after: repository.activity_page(s, customer_id, after, PAGE),
            lambda row: asdict(open_record(cipher, row)),
        ):
            yield chunk
        yield b"]}"


def _head_and_cipher(session: Session, runtime: Runtime, customer_id: str) -> tuple[dict[str, Any], Any]:
    return _head(session, runtime, customer_id), datakeys.cipher_for(session, runtime, customer_id)


async def _pages(
    session: AsyncReadSession,
    page: Callable[[Session, int], Sequence[Any]],
    render: Callable[[Any], dict[str, Any]],
) -> AsyncIterator[bytes]:
    after, first = 0, True
    while True:
        rows = await session.run(_read_page, page, after)
        if not rows:
            return
        chunk = await cpu_bound(_render_page, render, rows)
        yield (chunk if first else "," + chunk).encode()
        first = False
        after = rows[-1].id


def _render_page(render: Callable[[Any], dict[str, Any]], rows: Sequence[Any]) -> str:
    return ",".join(_dumps(render(row)) for row in rows)


def _read_page(session: Session, page: Callable[[Session, int], Sequence[Any]], after: int) -> Sequence[Any]:
    # Rows already written are not needed again; keep the identity map from growing with the export.
    session.expunge_all()
    return page(session, after)
