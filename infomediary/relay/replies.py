"""Her reply to a relayed message: sent to its reply address (`reply_address`), passed to the supplier from
her relay address, with nothing in it that names her or her machine; logged and kept, in one transaction.

1. **Reply address.** It must open to a message she received (`reply_address.message_id`,
   `messages.replied`), through an address of hers that is still switched on, from a supplier not suspended.
   Where the reply goes is the supplier's address that message came from, kept sealed with it; it must
   still be at the domain the supplier has bound now (`sending_domains`), or the reply goes nowhere: a
   supplier that moved its domain does not have mail for its old one delivered by the relay.
2. **Sender.** The envelope sender and the one From address must both be her confirmed address (the one
   the relay forwards to), compared case-insensitively. The reply address is the capability (only her
   mailbox received it); the sender check keeps a reply address that leaked (a forwarded mail) from
   letting anyone else write to the supplier as her.
3. **What passes** (`filtering.relayed`): headers by an allow-list (Subject, Content-Language, and the
   thread headers kept to the relay's own message ids), bodies re-encoded, HTML sanitised with remote
   images dropped. The relay writes the rest: From her relay address with no display name (her mail
   program's display name is her name; a per-address choice to show it is not offered yet), To the
   supplier, a fresh Message-ID and Date, a DKIM signature for the relay domain. So `Received` lines,
   `X-Originating-IP`, `User-Agent`, `Cc` and her provider's signatures stay behind.
4. **Kept and logged.** A copy of what the supplier receives is kept sealed in her relayed messages (marked
   sent), her log says she replied (not to or from which address), and the reply is sent at commit.

Refusals say "not accepted" and no more, as `inbound`'s do.
"""

from __future__ import annotations

from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid
from typing import Final

import structlog
from sqlalchemy.orm import Session

from infomediary.aliases import service as aliases
from infomediary.database import WriteSession, unit_of_work, utcnow
from infomediary.mail.at_commit import send_at_commit
from infomediary.mail.message import Mail
from infomediary.policylog import kinds
from infomediary.policylog.service import append as log_append
from infomediary.policylog.service import log_pseudonym
from infomediary.relay import dkim_signing, filtering, inbound, messages, reply_address, sending_domains
from infomediary.relay.inbound import Outcome, Verdict
from infomediary.runtime import Runtime
from infomediary.suppliers.models import Supplier, SupplierStatus

log = structlog.get_logger(__name__)

KIND: Final = "relay-reply"
MAX_SUBJECT: Final = inbound.MAX_SUBJECT


@dataclass(frozen=True)
class _Thread:
    """A reply address opened: the message it answers, her address for its supplier, and hers."""

    replied: messages.Replied
    alias: str
    her_address: str


def _thread(session: Session, runtime: Runtime, address: str) -> _Thread | None:
    message_id = reply_address.message_id(runtime, address)
    if message_id is None:
        return None
    replied = messages.replied(session, runtime, message_id)
    if replied is None:
        return None
    try:
        alias = aliases.get(session, runtime, replied.customer_id, replied.alias_id)
    except aliases.AliasUnknown:
        return None  # erased since: her customer id names nobody
    if not alias.on:
        return None
    supplier = session.get(Supplier, replied.supplier_id)
    if supplier is None or supplier.status == SupplierStatus.SUSPENDED.value:
        return None
    bound = sending_domains.get(session, replied.supplier_id)
    if bound is None or replied.sender_address.rpartition("@")[2].lower().rstrip(".") != bound.domain:
        return None
    her_address = inbound.confirmed_address(session, runtime, replied.customer_id)
    if her_address is None:
        return None
    return _Thread(replied, alias.address, her_address)


def accepts_recipient(runtime: Runtime, address: str) -> bool:
    """Whether `address` is a reply address that takes her reply now (the check at RCPT TO)."""
    with unit_of_work(runtime.read_session_factory) as session:
        return _thread(session, runtime, address) is not None


def reply(runtime: Runtime, *, recipient: str, mail_from: str, raw: bytes) -> Outcome:
    """Decide and pass on one reply, in one transaction of its own."""
    with unit_of_work(runtime.session_factory) as session:
        return reply_in(session, runtime, recipient=recipient, mail_from=mail_from, raw=raw)


def reply_in(
    session: WriteSession, runtime: Runtime, *, recipient: str, mail_from: str, raw: bytes
) -> Outcome:
    """`reply` in the caller's transaction."""
    thread = _thread(session, runtime, recipient)
    if thread is None:
        return Outcome(Verdict.UNKNOWN_RECIPIENT)
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(parsed, EmailMessage)  # the default policy parses to EmailMessage
    if not _from_her(parsed, mail_from, thread.her_address):
        log.info("relay.not_accepted", why="reply_sender")
        return Outcome(Verdict.NOT_ACCEPTED)
    replied = thread.replied
    mail = compose(runtime, parsed, alias=thread.alias, to=replied.sender_address)
    signed = mail.message.as_bytes()
    subject = " ".join(str(mail.message.get("Subject", "")).split())[:MAX_SUBJECT]
    message_id = messages.store(
        session,
        runtime,
        customer_id=replied.customer_id,
        supplier_id=replied.supplier_id,
        alias_id=replied.alias_id,
        purpose=replied.purpose,
        raw=signed,
        subject=subject,
        sender_name="",
        direction=messages.SENT,
    )
    log_append(
        session,
        {
            "kind": kinds.RELAY_REPLY_SENT,
            "subject": log_pseudonym(runtime, replied.customer_id),
            "supplier_id": replied.supplier_id,
        },
    )
    send_at_commit(session, runtime.mail, mail)
    log.info("relay.replied", message_id=message_id, supplier_id=replied.supplier_id)
    return Outcome(Verdict.RELAYED, message_id)


def compose(runtime: Runtime, original: EmailMessage, *, alias: str, to: str) -> Mail:
    """Her reply as the supplier receives it: filtered, from her relay address, signed for the relay
    domain."""
    settings = runtime.settings
    filtered = filtering.relayed(
        original,
        policy=filtering.ImagePolicy.BLOCK,
        proxied=_never,
        thread_domain=settings.relay_domain,
    ).message
    local, _, domain = alias.partition("@")
    # No display name: what her mail program puts there is her name.
    filtered["From"] = Address("", local, domain)
    filtered["To"] = to
    filtered["Date"] = format_datetime(utcnow())
    filtered["Message-ID"] = make_msgid(domain=settings.relay_domain)
    signed = dkim_signing.sign(runtime.keys, settings, filtered.as_bytes(policy=policy.SMTP))
    parsed = BytesParser(policy=policy.default).parsebytes(signed)
    assert isinstance(parsed, EmailMessage)  # the default policy parses to EmailMessage
    return Mail(kind=KIND, message=parsed)


def _never(url: str) -> str:
    raise AssertionError("images in a reply are blocked, never proxied")


def _from_her(message: EmailMessage, mail_from: str, her_address: str) -> bool:
    senders: tuple[Address, ...] = getattr(message["From"], "addresses", ())
    if len(message.get_all("From") or []) != 1 or len(senders) != 1:
        return False
    mine = her_address.casefold()
    return senders[0].addr_spec.casefold() == mine and mail_from.strip().casefold() == mine
