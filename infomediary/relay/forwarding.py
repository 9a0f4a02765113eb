"""What she receives for a relayed message: from her relay address, naming the supplier, DKIM-signed for the
relay domain, sent through the outbound transport once the message's transaction commits.

The forward is the supplier's message made safe by `filtering.relayed` (headers by allow-list, HTML
sanitised, remote images blocked or sent through the broker's proxy as she chose, attachments kept), behind
a short text part of the relay's own: who wrote, what was done to the message, and the link that reports it
as unwanted. The whole is `multipart/mixed` with the relay's part first, so every mail program shows it
first, above the supplier's message, whatever that message's structure.
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
from infomediary.relay import dkim_signing, filtering, links
from infomediary.relay.filtering import ImagePolicy
from infomediary.runtime import Runtime
from infomediary.settings import Settings

KIND = "relayed"
SUPPLIER_HEADER = "X-Infomediary-Supplier"
# Headers of the filtered message that belong on the forward's top level (they thread it in her mail program).
_TOP_LEVEL = ("In-Reply-To", "References", "Content-Language")
_IMAGES_SAID = {
    ImagePolicy.BLOCK: "Remote images were removed, so the sender cannot tell whether or when you read it.",
    ImagePolicy.PROXY: (
        "Remote images are loaded through {controller}, so the sender never sees your address, your mail "
        "program or when you read it."
    ),
}


def _intro(settings: Settings, *, alias: str, supplier_name: str, images: ImagePolicy, report: str) -> str:
    centre = f"{settings.issuer.rstrip('/')}/relay"
    return (
        f"{supplier_name} wrote to you at your relay address {alias}; {settings.controller_name} passed it "
        f"on without telling {supplier_name} your own address.\n"
        + _IMAGES_SAID[images].format(controller=settings.controller_name)
        + " Scripts and remote styles were removed.\n"
        f"Unwanted? Report it (counts against {supplier_name}): {report}\n"
        f"Switch this address off or choose how images are handled in your privacy centre: {centre}\n"
    )


def compose(
    keys: KeyMaterial,
    settings: Settings,
    *,
    alias: str,
    to: str,
    supplier_name: str,
    subject: str,
    original: EmailMessage,
    message_id: str,
    images: ImagePolicy = ImagePolicy.BLOCK,
    reply_to: str | None = None,
) -> Mail:
    """The forward of one message (`message_id`, as kept) to her own address, filtered and signed."""
    filtered = filtering.relayed(
        original,
        policy=images,
        proxied=lambda url: links.image_url(keys, settings, url) if links.proxiable(url) else None,
        thread_domain=settings.relay_domain,
    ).message
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
    for name in _TOP_LEVEL:
        if filtered[name] is not None:
            message[name] = filtered[name]
    # What is left on the filtered message is how to read its body: it becomes the second part.
    for name in ("Subject", "MIME-Version", *_TOP_LEVEL):
        del filtered[name]
    intro = _intro(
        settings,
        alias=alias,
        supplier_name=supplier_name,
        images=images,
        report=links.report_url(keys, settings, message_id),
    )
    message.set_content(intro, cte="quoted-printable")
    message.make_mixed()
    message.attach(filtered)
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
    original: EmailMessage,
    message_id: str,
    images: ImagePolicy = ImagePolicy.BLOCK,
    reply_to: str | None = None,
) -> None:
    mail = compose(
        runtime.keys,
        runtime.settings,
        alias=alias,
        to=to,
        supplier_name=supplier_name,
        subject=subject,
        original=original,
        message_id=message_id,
        images=images,
        reply_to=reply_to,
    )
    send_at_commit(session, runtime.mail, mail)
