"""The right to data portability: everything held about a customer, as one JSON document, streamed.

Format ``infomediary.export/v2``, described field by field by its JSON Schema (draft 2020-12), kept beside
this module (`export-v2.schema.json`) and published at ``/v1/schemas/export-v2.json``; the document names
that address in its ``$schema`` key. A JSON object, keys in this order::

    $schema, format, exported_at
    account          {"id", "created_at"}: the customer id she is shown, never the internal one
    restriction      whether processing is restricted, since when
    privacy_signal   whether her Global Privacy Control opt-out is on record, since when
    profile          the fields she has set, each with its category, sensitivity and source
    derived          recency, frequency, monetary and lifetime value, each with the records it came from
    history          every change of the profile, oldest first
    activity         every activity record, oldest first, as posted
    consents         every consent record, with its events and the signed receipt (JWS) each was issued
    standing_terms   the terms the broker enforces for her
    pseudonyms       per supplier that knows her: the stable pseudonym she handed it (if any) and the logged
                     decisions that let it take her data (release pseudonyms are not kept, by design)
    rewards          her balance, every ledger posting, newest first, and her vouchers (without their codes)
    offers           every offer delivered to her, whatever became of it
    requests         every supplier request to her, answered or not
    privacy_loss     her privacy-loss account this period, by supplier and against her cap
    log              the log's origin and verifier key, one signed tree head, and every entry about her
                     with its inclusion proof against that head

Memory stays bounded however much a customer has: every section that grows with use is read in keyset pages
(`sections.PAGE` rows) and written as it is read. The stream reads in one read session of its own, opened
when the body starts: a streaming body is sent after the request's session has ended. That session is one
transaction reading one snapshot (`RequestSessions.snapshots`: REPEATABLE READ on PostgreSQL, whose request
path otherwise reads in autocommit), so no section shows what was committed while the export ran and another
does not. The log's proofs are all against the head read when the stream starts.
What would break the head is checked first (`check`), in the request's session, so that it is a problem
response rather than a 200 cut short.
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
from infomediary.policylog import treehead
from infomediary.policylog.treehead import SignedTreeHead
from infomediary.portability import sections
from infomediary.portability.published import schema_url
from infomediary.portability.sections import Section
from infomediary.profiles import datakeys, restriction
from infomediary.profiles.datakeys import CustomerCipher
from infomediary.runtime import Runtime

FORMAT = "infomediary.export/v2"


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    raise TypeError(f"cannot export {type(value).__name__}")


def _dumps(value: Any) -> str:
    return json.dumps(value, default=_default, ensure_ascii=False, separators=(",", ":"))


def _member(key: str, value: Any) -> bytes:
    return f",{_dumps(key)}:{_dumps(value)}".encode()


def check(session: Session, runtime: Runtime, customer_id: str) -> None:
    """Raise now what would break the export's head: a missing account, or a data key or profile that no
    longer opens (a key destroyed by erasure, an old backup restored). Run in the request's session, before
    the 200 is sent; the stream itself runs later, in a session of its own."""
    # The derived figures open the data key, as the stream does.
    _head(session, runtime, customer_id, utcnow())


def _head(session: Session, runtime: Runtime, customer_id: str, now: datetime) -> dict[str, Any]:
    customer = customers.get(session, customer_id)
    # The customer id she is shown, never the internal one: a database backup holds that (`directory`).
    shown = directory.customer_id_of(runtime, customer_id)
    if customer is None or shown is None:
        raise InvalidSession()
    return {
        "$schema": schema_url(runtime.settings),
        "format": FORMAT,
        "exported_at": now,
        "account": {"id": shown, "created_at": customer.created_at},
        "restriction": asdict(restriction.describe(session, customer_id)),
        "privacy_signal": sections.privacy_signal(session, customer_id),
        "profile": sections.profile(session, runtime, customer_id),
        "derived": sections.derived(session, runtime, customer_id),
    }


def _start(
    session: Session, runtime: Runtime, customer_id: str, now: datetime
) -> tuple[dict[str, Any], CustomerCipher, SignedTreeHead | None]:
    # The tree head first: the request signed one if it was due (`api.tree_heads`) before this session began.
    head = treehead.latest(session)
    return _head(session, runtime, customer_id, now), datakeys.cipher_for(session, runtime, customer_id), head


async def stream(
    open_session: Callable[[], AsyncReadSession], runtime: Runtime, customer_id: str
) -> AsyncIterator[bytes]:
    """Yield the export document in chunks of UTF-8 JSON, read in one session of its own.

    Its session (from `open_session`, the request path's snapshot reads) opens at the first chunk, when the
    response starts: by then the request's session has ended (the body is sent after it), so the export
    holds one connection, not two. Each page is read on the event loop; pages of decryptions are rendered
    on the CPU pool (`infomediary.offload`).
    """
    async with open_session() as session, session.begin():
        now = utcnow()
        head, cipher, tree_head = await session.run(_start, runtime, customer_id, now)
        yield _dumps(head)[:-1].encode()
        for key, section in (
            ("history", sections.history(customer_id, cipher)),
            ("activity", sections.activity(customer_id, cipher)),
        ):
            yield f',"{key}":['.encode()
            async for chunk in _pages(session, section):
                yield chunk
            yield b"]"
        yield b',"consents":['
        async for chunk in _consents(session, customer_id, now):
            yield chunk
        yield b"]"
        yield _member("standing_terms", await session.run(sections.standing_terms, customer_id))

        yield b',"pseudonyms":['
        holders = await session.run(sections.pseudonym_holders, runtime, customer_id)
        for i, holder in enumerate(holders):
            yield f'{"," if i else ""}{_dumps(holder.head)[:-1]},"permitted":['.encode()
            async for chunk in _pages(session, sections.permitted(runtime, customer_id, holder.supplier_id)):
                yield chunk
            yield b"]}"
        yield b"]"

        balance = await session.run(sections.balance, customer_id)
        yield f',"rewards":{{"balance":{balance},"postings":['.encode()
        async for chunk in _pages(session, sections.postings(customer_id)):
            yield chunk
        yield b'],"vouchers":['
        async for chunk in _pages(session, sections.vouchers(runtime, customer_id, now)):
            yield chunk
        yield b"]}"
        for key, listed in (
            ("offers", sections.offers(customer_id)),
            ("requests", sections.requests(customer_id, now)),
        ):
            yield f',"{key}":['.encode()
            async for chunk in _pages(session, listed):
                yield chunk
            yield b"]"
        yield _member(
            "privacy_loss", await session.run(sections.privacy_loss, runtime.settings, customer_id, now)
        )

        yield f',"log":{_dumps(sections.log_head(runtime, tree_head))[:-1]},"entries":['.encode()
        async for chunk in _pages(session, sections.log_entries(runtime, customer_id, tree_head)):
            yield chunk
        yield b"]}}"


async def _pages(session: AsyncReadSession, section: Section[Any]) -> AsyncIterator[bytes]:
    cursor: Any = None
    first = True
    while True:
        rows, cursor = await session.run(_read_page, section.read, cursor)
        if rows:
            if section.offload:
                chunk = await cpu_bound(_render_page, section.render, rows)
            else:
                chunk = _render_page(section.render, rows)
            yield (chunk if first else "," + chunk).encode()
            first = False
        if cursor is None:
            return


async def _consents(session: AsyncReadSession, customer_id: str, now: datetime) -> AsyncIterator[bytes]:
    """The consent records, each with its events nested as its last key, both read in keyset pages: a page of
    records, then the events of those records in pages of their own, which may start and end inside one
    record (a consent toggled a hundred thousand times is read `sections.PAGE` events at a time)."""
    records = sections.consent_records(customer_id, now)
    cursor: Any = None
    first = True
    while True:
        page, cursor = await session.run(_read_page, records.read, cursor)
        if page:
            events = sections.consent_events(customer_id, [record["id"] for record in page])
            nesting = _Nesting(page, first=first)
            after: Any = None
            while True:
                rows, after = await session.run(_read_page, events.read, after)
                yield nesting.events(rows, events.render)
                if after is None:
                    break
            yield nesting.close()
            first = False
        if cursor is None:
            return


class _Nesting:
    """Writes one page of consent records with their events nested, as pages of events arrive: a record is
    opened at its first event (or when a later record's arrives, if it has none) and closed after its last."""

    def __init__(self, records: Sequence[dict[str, Any]], *, first: bool) -> None:
        self._records = records
        self._position = {record["id"]: i for i, record in enumerate(records)}
        self._first = first
        self._open = -1
        self._empty = True

    def _advance(self, to: int, parts: list[str]) -> None:
        if to < self._open:
            # Both reads order by the record id; anything else would misplace events, so stop loudly.
            raise RuntimeError("consent events arrived out of record order")
        while self._open < to:
            if self._open >= 0:
                parts.append("]}")
            self._open += 1
            lead = "" if self._first and self._open == 0 else ","
            parts.append(f'{lead}{_dumps(self._records[self._open])[:-1]},"events":[')
            self._empty = True

    def events(self, rows: Sequence[Any], render: Callable[[Any], dict[str, Any]]) -> bytes:
        parts: list[str] = []
        for row in rows:
            self._advance(self._position[row.record_id], parts)
            parts.append(("" if self._empty else ",") + _dumps(render(row)))
            self._empty = False
        return "".join(parts).encode()

    def close(self) -> bytes:
        parts: list[str] = []
        self._advance(len(self._records) - 1, parts)
        parts.append("]}")
        return "".join(parts).encode()


def _render_page(render: Callable[[Any], dict[str, Any]], rows: Sequence[Any]) -> str:
    return ",".join(_dumps(render(row)) for row in rows)


def _read_page(
    session: Session, read: Callable[[Session, Any], tuple[Sequence[Any], Any]], cursor: Any
) -> tuple[Sequence[Any], Any]:
    # Rows already written are not needed again; keep the identity map from growing with the export.
    session.expunge_all()
    return read(session, cursor)
