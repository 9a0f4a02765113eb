"""A message to send: a standard `EmailMessage` (RFC 5322, plain text), and what kind it is for the logs.

Nothing here knows what a message is about; the domains that send mail write its words (for accounts:
`infomediary.customers.mails`). A relay (issue 20) hands over messages it did not write, through the same
transports.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from infomediary.database import utcnow


@dataclass(frozen=True)
class Mail:
    """A message and its kind: the kind (`verify-email`, `password-reset` ...) is what a log line may say
    about a message; its recipient and body (an address, a link with a token) never reach a log."""

    kind: str
    message: EmailMessage


def compose(*, kind: str, sender: str, to: str, subject: str, text: str) -> Mail:
    """A plain-text message. Header values cannot carry a line break (the default policy refuses one), so
    no input can add a header of its own."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    # The sender's own domain, not the machine's name: `make_msgid` would otherwise look it up (DNS).
    message["Message-ID"] = make_msgid(domain=_domain(message) or "infomediary.invalid")
    # RFC 3834: an automatic message; vacation responders and the like do not answer it.
    message["Auto-Submitted"] = "auto-generated"
    # Quoted-printable for text beyond ASCII, not raw 8-bit: a relay without 8BITMIME takes it unchanged.
    message.set_content(text, cte=None if text.isascii() else "quoted-printable")
    return Mail(kind=kind, message=message)


def _domain(message: EmailMessage) -> str | None:
    addresses: tuple[Address, ...] = getattr(message["From"], "addresses", ())
    return addresses[0].domain if addresses and addresses[0].domain else None


def recipients(message: EmailMessage) -> list[str]:
    """The message's recipients, as addresses (what a listing shows and a transport sends to)."""
    found: list[str] = []
    for header in ("To", "Cc", "Bcc"):
        for address in getattr(message[header], "addresses", ()):
            found.append(address.addr_spec)
    return found
