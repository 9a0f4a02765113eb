"""The embedded default's mailbox: each message a file under <data_dir>/mail/, for `infomediary mail list`.

Without a relay there is nowhere to send mail, and the demo must still work offline: a customer follows the
link in the message she would have received. Each file is mode 0600 in a 0700 directory, because a message
holds what a mailbox holds (the address, a link with a single-use token); the files are not in the
database, nor in its backups, and an erasure deletes hers (`forget`). Names sort by time and carry no
address.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path

from infomediary.database import utcnow
from infomediary.mail.message import recipients

SUFFIX = ".eml"
_ID = re.compile(r"[0-9]{8}T[0-9]{12}Z-[0-9a-f]{6}")


@dataclass(frozen=True)
class Kept:
    """A kept message, as a listing shows it."""

    id: str
    at: datetime
    to: str
    subject: str


def new_id(now: datetime | None = None) -> str:
    moment = (now or utcnow()).astimezone(UTC)
    return f"{moment:%Y%m%dT%H%M%S%f}Z-{secrets.token_hex(3)}"


def write(directory: Path, message: EmailMessage) -> str:
    """Keep `message` in `directory`; returns its id. Whole or not at all: written aside, then renamed."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    message_id = new_id()
    partial = directory / f".{message_id}.partial"
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(message.as_bytes())
    os.replace(partial, directory / f"{message_id}{SUFFIX}")
    return message_id


def read(directory: Path, message_id: str) -> EmailMessage:
    """The kept message `message_id`; `KeyError` if there is none (or the id is not one: no path from it)."""
    if not _ID.fullmatch(message_id):
        raise KeyError(message_id)
    path = directory / f"{message_id}{SUFFIX}"
    try:
        with path.open("rb") as file:
            parsed = BytesParser(policy=policy.default).parse(file)
    except FileNotFoundError:
        raise KeyError(message_id) from None
    assert isinstance(parsed, EmailMessage)  # the default policy parses to EmailMessage
    return parsed


def listing(directory: Path, *, limit: int | None = None) -> list[Kept]:
    """The kept messages, newest first (at most `limit`)."""
    if not directory.is_dir():
        return []
    ids = sorted((p.stem for p in directory.glob(f"*{SUFFIX}") if _ID.fullmatch(p.stem)), reverse=True)
    kept = []
    for message_id in ids[:limit]:
        message = read(directory, message_id)
        kept.append(
            Kept(
                id=message_id,
                at=_date(message, message_id),
                to=str(message["To"] or ""),
                subject=str(message["Subject"] or ""),
            )
        )
    return kept


def forget(directory: Path, address: str) -> int:
    """Delete every kept message to `address` (an erased customer's mail); returns how many."""
    if not directory.is_dir():
        return 0
    wanted = address.casefold()
    gone = 0
    for path in directory.glob(f"*{SUFFIX}"):
        if not _ID.fullmatch(path.stem):
            continue
        message = read(directory, path.stem)
        if any(a.casefold() == wanted for a in recipients(message)):
            path.unlink(missing_ok=True)
            gone += 1
    return gone


def body(message: EmailMessage) -> str:
    """The message's text, as the customer would read it."""
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if isinstance(part, EmailMessage) else ""


def _date(message: EmailMessage, message_id: str) -> datetime:
    try:
        return parsedate_to_datetime(str(message["Date"])).astimezone(UTC)
    except (TypeError, ValueError):
        return datetime.strptime(message_id[:22], "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)
