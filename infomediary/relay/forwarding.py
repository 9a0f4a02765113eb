"""What she receives for a relayed message: from her relay address, naming the supplier, DKIM-signed for the
relay domain, sent through the outbound transport once the message's transaction commits.

The forward carries the message's text, not its HTML or attachments: what reaches her mailbox through the
relay loads nothing and runs nothing (the full message is in her privacy centre, read as text too). A
filter that keeps more of a message safely belongs here, beside `compose`.
"""

from __future__ import annotations

from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid

from infomediary.database import WriteSession, utcnow
from infomediary.keymaterial import KeyMaterial
from infomediary.mail.at_commit import send_at_commit
from infomediary.mail.message import Mail
from infomediary.relay import dkim_signing
from infomediary.runtime import Runtime
from infomediary.settings import Settings

KIND = "relayed"
SUPPLIER_HEADER = "X-Infomediary-Supplier"


def compose(
    keys: KeyMaterial,
    settings: Settings,
    *,
    alias: str,
    to: str,
    supplier_name: str,
    subject: str,
    text: str,
    reply_to: str | None = None,
) -> Mail:
    """The forward of one message to her own address, signed."""
    message = EmailMessage(policy=policy.SMTP)
    local, _, domain = alias.partition("@")
    message["From"] = Address(f"{supplier_name} via {settings.controller_name}", local, domain)
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain=settings.relay_domain)
    if reply_to is not None:
        # Her reply goes back through the relay (`replies`), never straight to the supplier.
        message["Reply-To"] = reply_to
    message[SUPPLIER_HEADER] = supplier_name
    intro = (
        f"{supplier_name} wrote to you at your relay address {alias}; "
        f"{settings.controller_name} passed it on without telling {supplier_name} your own address.\n"
        f"You can switch this address off in your privacy centre: {settings.issuer.rstrip('/')}/relay\n"
        "----\n\n"
    )
    body = intro + text
    message.set_content(body, cte=None if body.isascii() else "quoted-printable")
    signed = dkim_signing.sign(keys, settings, message.as_bytes())
    parsed = BytesParser(policy=policy.default).parsebytes(signed)
    assert isinstance(parsed, EmailMessage)  # the default policy parses to EmailMessage
    return Mail(kind=KIND, message=parsed)


def forward_at_commit(
    session: WriteSession,
    runtime: Runtime,
    *,
    alias: str,
    to: str,
    supplier_name: str,
    subject: str,
    text: str,
    reply_to: str | None = None,
) -> None:
    settings = runtime.settings
    mail = compose(
        runtime.keys,
        settings,
        alias=alias,
        to=to,
        supplier_name=supplier_name,
        subject=subject,
        text=text,
        reply_to=reply_to,
    )
    send_at_commit(session, runtime.mail, mail)
