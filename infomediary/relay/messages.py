"""The messages relayed to a customer, kept for her to read in the privacy centre.

Each is sealed under a key derived from her erasure key (`Vault.seal_bound`), bound to the row's id: no
plaintext at rest, nothing readable in a backup once she is erased (and the rows go with her account). Her
listing opens only each message's small summary (subject, sender's name); reading one opens the message.
What she reads is the text of the message, never its HTML: the page shows text, so nothing in a message
can load anything (a tracking pixel, a script).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from html.parser import HTMLParser

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from infomediary.database import WriteSession, utcnow
from infomediary.errors import NotFound
from infomediary.ids import new_id
from infomediary.relay.models import RelayedMessageRow
from infomediary.runtime import Runtime
from infomediary.suppliers.models import Supplier
from vault import VaultError

RECEIVED = "received"
SENT = "sent"
_SUMMARY = "relay.message.summary:"
_MESSAGE = "relay.message:"


class RelayedMessageUnknown(NotFound):
    slug = "relayed-message-not-found"
    title = "No such relayed message"


@dataclass(frozen=True)
class MessageSummary:
    id: str
    supplier_id: str
    supplier_name: str
    alias_id: str
    purpose: str
    received_at: datetime
    subject: str
    sender_name: str
    size: int
    direction: str = RECEIVED


@dataclass(frozen=True)
class MessageRead:
    summary: MessageSummary
    text: str


@dataclass(frozen=True)
class MessagePage:
    messages: list[MessageSummary]
    next_cursor: str | None


def store(
    session: WriteSession,
    runtime: Runtime,
    *,
    customer_id: str,
    supplier_id: str,
    alias_id: str,
    purpose: str,
    raw: bytes,
    subject: str,
    sender_name: str,
    sender_address: str | None = None,
    direction: str = RECEIVED,
) -> str:
    """Keep a relayed message for her, sealed; returns its id.

    `sender_address` is the supplier's address a message came from: where her reply to it goes
    (`replies`). It is kept in the sealed summary, not in a column, like the rest of what the message says.
    """
    message_id = new_id("msg")
    vault = runtime.vault
    fields = {"subject": subject, "sender_name": sender_name}
    if sender_address is not None:
        fields["sender_address"] = sender_address
    summary = json.dumps(fields).encode()
    session.add(
        RelayedMessageRow(
            id=message_id,
            customer_id=customer_id,
            supplier_id=supplier_id,
            alias_id=alias_id,
            purpose=purpose,
            direction=direction,
            received_at=utcnow(),
            size=len(raw),
            summary_sealed=vault.seal_bound(customer_id, _SUMMARY + message_id, summary),
            message_sealed=vault.seal_bound(customer_id, _MESSAGE + message_id, raw),
        )
    )
    session.flush()
    return message_id


def _summary(runtime: Runtime, row: RelayedMessageRow, supplier_name: str) -> MessageSummary:
    opened = json.loads(runtime.vault.open_bound(row.customer_id, _SUMMARY + row.id, row.summary_sealed))
    return MessageSummary(
        id=row.id,
        supplier_id=row.supplier_id,
        supplier_name=supplier_name,
        alias_id=row.alias_id,
        purpose=row.purpose,
        received_at=row.received_at,
        subject=str(opened.get("subject", "")),
        sender_name=str(opened.get("sender_name", "")),
        size=row.size,
        direction=row.direction,
    )


@dataclass(frozen=True)
class Replied:
    """What a reply to one message she received needs: whose it is, through which address, to whom."""

    customer_id: str
    supplier_id: str
    alias_id: str
    purpose: str
    sender_address: str


def replied(session: Session, runtime: Runtime, message_id: str) -> Replied | None:
    """The message a reply answers, if it is one she received and it names the supplier's address."""
    row = session.get(RelayedMessageRow, message_id)
    if row is None or row.direction != RECEIVED:
        return None
    try:
        opened = json.loads(runtime.vault.open_bound(row.customer_id, _SUMMARY + row.id, row.summary_sealed))
    except VaultError:
        return None  # her erasure key is gone (a restored backup not yet reconciled): nobody's message
    address = opened.get("sender_address")
    if not isinstance(address, str):
        return None
    return Replied(row.customer_id, row.supplier_id, row.alias_id, row.purpose, address)


def list_for(
    session: Session, runtime: Runtime, customer_id: str, *, limit: int, cursor: str | None = None
) -> MessagePage:
    """Her relayed messages, newest first, `limit` a page; `cursor` is the last id of the page before."""
    query = (
        select(RelayedMessageRow, Supplier.name)
        .join(Supplier, Supplier.id == RelayedMessageRow.supplier_id)
        .where(RelayedMessageRow.customer_id == customer_id)
    )
    if cursor is not None:
        after = session.scalar(
            select(RelayedMessageRow.received_at).where(
                RelayedMessageRow.id == cursor, RelayedMessageRow.customer_id == customer_id
            )
        )
        if after is not None:
            query = query.where(
                or_(
                    RelayedMessageRow.received_at < after,
                    and_(RelayedMessageRow.received_at == after, RelayedMessageRow.id < cursor),
                )
            )
    rows = session.execute(
        query.order_by(RelayedMessageRow.received_at.desc(), RelayedMessageRow.id.desc()).limit(limit + 1)
    ).all()
    page = [_summary(runtime, row, name) for row, name in rows[:limit]]
    return MessagePage(page, page[-1].id if len(rows) > limit else None)


def read(session: Session, runtime: Runtime, customer_id: str, message_id: str) -> MessageRead:
    """One of her relayed messages, as text; another's, or none, is `RelayedMessageUnknown`."""
    found = session.execute(
        select(RelayedMessageRow, Supplier.name)
        .join(Supplier, Supplier.id == RelayedMessageRow.supplier_id)
        .where(RelayedMessageRow.id == message_id, RelayedMessageRow.customer_id == customer_id)
    ).one_or_none()
    if found is None:
        raise RelayedMessageUnknown()
    row, name = found
    raw = runtime.vault.open_bound(customer_id, _MESSAGE + row.id, row.message_sealed)
    return MessageRead(_summary(runtime, row, name), text_of(raw))


def text_of(raw: bytes) -> str:
    """A message's readable text: its plain-text part, else the words of its HTML part."""
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(parsed, EmailMessage)  # the default policy parses to EmailMessage
    part = parsed.get_body(preferencelist=("plain", "html"))
    if not isinstance(part, EmailMessage):
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError):
        return ""
    if not isinstance(content, str):
        return ""
    return _words_of_html(content) if part.get_content_subtype() == "html" else content


class _Words(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.words: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skipping += 1
        elif tag in ("br", "p", "div", "li", "tr", "h1", "h2", "h3"):
            self.words.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skipping:
            self._skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.words.append(data)


def _words_of_html(html: str) -> str:
    parser = _Words()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.words).splitlines())
    return "\n".join(line for line in lines if line)
