"""One message to a relay address, decided: whose address, from whom, for what, allowed or not; then kept,
logged and forwarded, all in one transaction.

1. **Recipient.** The address must open to a live customer's address for some supplier, switched on
   (`aliases.resolve`); else the message is refused as an unknown mailbox.
2. **Sender.** Only the address's own supplier may write to it: the message's From must be one address at
   the domain the supplier bound to its account, and carry a DKIM signature of that domain that verifies
   with the key it bound (`sending_domains`, `dkim_signing.verify`; no DNS). An address handed on to anyone
   else is useless to them.
3. **Purpose** (`purpose_of`). A message with bulk markers (`List-Unsubscribe`, `List-Id`, `Precedence:
   bulk|list|junk`) is direct marketing. Otherwise it is a service message only if the supplier's policy in
   force declares service messages; else direct marketing. So a supplier cannot pass a newsletter off as
   a service message by declaring both, and one that declares no service messages has all its mail decided
   as marketing.
4. **Decision.** The consent engine decides (supplier, purpose, contact data, message delivery) for her and
   the decision is logged (`decide_for`), refusal included: a refusal commits that entry and nothing else.
5. **Relay.** Allowed: the message is kept sealed for her privacy centre (`messages`), with the supplier's
   address it came from (where her reply goes, `replies`), its relaying logged on her log, and its forward
   queued to her confirmed address (`forwarding`, filtered as she chose for remote images), with a reply
   address of its own, sent at commit.

Before any of it, at RCPT TO, a supplier beyond its hourly sending limit is told to try later (451).

What a refused sender is told is only that the message was not accepted: never which check failed, so the
relay answers no questions about who has an address, what she allowed, or which key it holds.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Final

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from consent.vocabulary import Category, Purpose, ReleaseKind
from infomediary.aliases import service as aliases
from infomediary.consents import repository as consent_repository
from infomediary.consents.decision_point import decide_for, supplier_query
from infomediary.customers.models import Customer
from infomediary.database import WriteSession, unit_of_work, utcnow
from infomediary.policylog import kinds
from infomediary.policylog.service import append as log_append
from infomediary.policylog.service import log_pseudonym
from infomediary.profiles import service as profiles
from infomediary.ratelimits import service as ratelimits
from infomediary.ratelimits.errors import RateLimited
from infomediary.ratelimits.service import Limit
from infomediary.relay import dkim_signing, forwarding, messages, preferences, reply_address, sending_domains
from infomediary.runtime import Runtime
from infomediary.suppliers.models import Supplier, SupplierStatus

log = structlog.get_logger(__name__)

BULK_HEADERS: Final = ("list-unsubscribe", "list-id")
BULK_PRECEDENCE: Final = frozenset({"bulk", "list", "junk"})
# What a message to her address is, as data: a way to reach her.
CATEGORIES: Final = frozenset({Category.CONTACT})
MAX_SUBJECT: Final = 300
SENDING_LIMIT_BUCKET: Final = "relay.supplier.hour"


class Verdict(enum.StrEnum):
    RELAYED = "relayed"
    # No such address, hers no more, or switched off: refused like a mailbox that does not exist.
    UNKNOWN_RECIPIENT = "unknown_recipient"
    # Sender not authenticated, or her consent does not allow it: "not accepted", no more.
    NOT_ACCEPTED = "not_accepted"
    # The supplier sent as many messages as it may this hour: a temporary refusal, try later.
    LIMITED = "limited"


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    message_id: str | None = None


def accepts_recipient(runtime: Runtime, address: str) -> Verdict:
    """What RCPT TO `address` gets: RELAYED (go on), UNKNOWN_RECIPIENT, or LIMITED when the address's
    supplier sent its hour's worth already (`relay_messages_per_supplier_per_hour`).

    The count is taken here, in a short transaction of its own, not in the message's: the counter's row is
    the supplier's, and holding its lock through a whole relay transaction would queue every message of the
    supplier behind the one before. A message refused later still counts: the limit is on sending."""
    with unit_of_work(runtime.read_session_factory) as session:
        found = aliases.resolve(session, runtime, address)
        if found is None or not found.on:
            return Verdict.UNKNOWN_RECIPIENT
        supplier_id = found.supplier_id
    limit = Limit(SENDING_LIMIT_BUCKET, runtime.settings.relay_messages_per_supplier_per_hour, 3600)
    try:
        with unit_of_work(runtime.session_factory) as writing:
            ratelimits.hit(writing, runtime.keys.secret("throttle"), limit, supplier_id, now=time.time())
    except RateLimited:
        log.info("relay.limited", supplier_id=supplier_id)
        return Verdict.LIMITED
    return Verdict.RELAYED


def relay(runtime: Runtime, *, recipient: str, raw: bytes) -> Outcome:
    """Decide and relay one message to one relay address, in one transaction of its own."""
    with unit_of_work(runtime.session_factory) as session:
        return relay_in(session, runtime, recipient=recipient, raw=raw)


def relay_in(session: WriteSession, runtime: Runtime, *, recipient: str, raw: bytes) -> Outcome:
    """`relay` in the caller's transaction."""
    to = aliases.resolve(session, runtime, recipient)
    if to is None or not to.on:
        return Outcome(Verdict.UNKNOWN_RECIPIENT)
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(parsed, EmailMessage)  # the default policy parses to EmailMessage
    supplier = session.get(Supplier, to.supplier_id)
    if supplier is None or supplier.status == SupplierStatus.SUSPENDED.value:
        return _refused("supplier_suspended")
    if not _authenticated(session, to.supplier_id, parsed, raw):
        return _refused("sender_not_authenticated")
    now = utcnow()
    declared = consent_repository.policy_in_force(session, to.supplier_id, now).policy.purposes
    purpose = purpose_of(parsed, declared)
    query = supplier_query(
        session,
        supplier_id=to.supplier_id,
        purpose=purpose,
        categories=CATEGORIES,
        release_kind=ReleaseKind.MESSAGE_DELIVERY,
        now=now,
    )
    if not decide_for(session, runtime, to.customer_id, query).permitted:
        return _refused("consent")
    subject = _one_line(str(parsed.get("Subject", "")))[:MAX_SUBJECT]
    message_id = messages.store(
        session,
        runtime,
        customer_id=to.customer_id,
        supplier_id=to.supplier_id,
        alias_id=to.alias_id,
        purpose=purpose.value,
        raw=raw,
        subject=subject,
        sender_name=supplier.name,
        sender_address=_sender(parsed),
    )
    log_append(
        session,
        {
            "kind": kinds.RELAY_MESSAGE_RELAYED,
            "subject": log_pseudonym(runtime, to.customer_id),
            "supplier_id": to.supplier_id,
            "purpose": purpose.value,
            "categories": [c.value for c in CATEGORIES],
        },
    )
    address = confirmed_address(session, runtime, to.customer_id)
    if address is not None:
        forwarding.forward_at_commit(
            session,
            runtime,
            alias=to.address,
            to=address,
            supplier_name=supplier.name,
            subject=subject,
            original=parsed,
            message_id=message_id,
            images=preferences.remote_images(session, to.customer_id),
            reply_to=reply_address.address(runtime, message_id),
        )
    log.info("relay.relayed", message_id=message_id, supplier_id=to.supplier_id, purpose=purpose.value)
    return Outcome(Verdict.RELAYED, message_id)


def purpose_of(message: EmailMessage, declared: frozenset[Purpose]) -> Purpose:
    """Service messages or direct marketing, by the rule in the module docstring."""
    if is_bulk(message) or Purpose.SERVICE_MESSAGES not in declared:
        return Purpose.DIRECT_MARKETING
    return Purpose.SERVICE_MESSAGES


def is_bulk(message: EmailMessage) -> bool:
    if any(message.get(header) is not None for header in BULK_HEADERS):
        return True
    precedence = str(message.get("Precedence", "")).strip().lower()
    return precedence in BULK_PRECEDENCE


def _authenticated(session: WriteSession, supplier_id: str, message: EmailMessage, raw: bytes) -> bool:
    bound = sending_domains.get(session, supplier_id)
    if bound is None:
        return False
    senders: tuple[Address, ...] = getattr(message["From"], "addresses", ())
    if len(message.get_all("From") or []) != 1 or len(senders) != 1:
        return False
    if senders[0].domain.lower().rstrip(".") != bound.domain:
        return False
    return dkim_signing.verify(raw, domain=bound.domain, selector=bound.selector, record=bound.dns_record)


def _sender(message: EmailMessage) -> str:
    """The one From address of a message that passed `_authenticated`: where her reply to it goes."""
    senders: tuple[Address, ...] = getattr(message["From"], "addresses", ())
    return senders[0].addr_spec


def confirmed_address(session: Session, runtime: Runtime, customer_id: str) -> str | None:
    """Her own address, once she confirmed it (an unconfirmed one may be someone else's mailbox)."""
    confirmed = session.scalar(select(Customer.email_verified_at).where(Customer.id == customer_id))
    if confirmed is None:
        return None
    value = profiles.values_of(session, runtime, [customer_id], ["email"]).get(customer_id, {}).get("email")
    return value if isinstance(value, str) else None


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _refused(why: str) -> Outcome:
    # The reason goes to the operator's log only; the sender is told "not accepted".
    log.info("relay.not_accepted", why=why)
    return Outcome(Verdict.NOT_ACCEPTED)
