"""Confirming a customer's login address: the link mailed at registration, and mailing it again.

An account signs in only once its address is confirmed (`service.login`): otherwise anyone could open an
account in someone else's name, and the password reset and notices meant for the address's owner would go
to a mailbox the account's holder does not read.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from infomediary.customers import directory, mails, repository, tokens
from infomediary.customers.blind_index import email_index
from infomediary.customers.errors import InvalidSession, LinkInvalid
from infomediary.database import WriteSession, utcnow
from infomediary.runtime import Runtime


def send_link(
    session: WriteSession, runtime: Runtime, customer_id: str, email: str, *, now: datetime | None = None
) -> None:
    """Mail the address a link that confirms it (a new link ends the one before)."""
    now = now or utcnow()
    issued = tokens.issue(
        session,
        customer_id,
        tokens.VERIFY_EMAIL,
        ttl_seconds=runtime.settings.email_verification_ttl_seconds,
        now=now,
    )
    mail = mails.verify_email(runtime.settings, to=email, token=issued.token, expires_at=issued.expires_at)
    mails.send(session, runtime, customer_id, mail)


def confirm(session: WriteSession, token: str, *, now: datetime | None = None) -> None:
    """Follow the link: the address is confirmed and the account can sign in. `LinkInvalid` otherwise."""
    now = now or utcnow()
    customer_id = tokens.use(session, token, tokens.VERIFY_EMAIL, now=now)
    customer = repository.get(session, customer_id) if customer_id is not None else None
    if customer is None:
        raise LinkInvalid()
    if customer.email_verified_at is None:
        customer.email_verified_at = now
    session.flush()


def link_is_live(session: Session, token: str, *, now: datetime | None = None) -> bool:
    """Whether the link would still confirm an address (the page shows its button, or says it expired)."""
    return tokens.holder(session, token, tokens.VERIFY_EMAIL, now=now or utcnow()) is not None


def resend(session: WriteSession, runtime: Runtime, email: str, *, now: datetime | None = None) -> None:
    """Mail a new link if `email` is the login of an account waiting for confirmation; else nothing. The
    caller answers the same either way."""
    index = email_index(runtime.keys.secret("blind_index"), email)
    subject_id = directory.subject_by_login(session, runtime, index)
    customer = repository.get(session, subject_id) if subject_id is not None else None
    if customer is not None and customer.status == "active" and customer.email_verified_at is None:
        send_link(session, runtime, customer.id, email, now=now)


def notify_taken(session: WriteSession, runtime: Runtime, email: str) -> None:
    """Someone registered an address that already has an account: its owner is told, nothing else happens.

    No link to confirm an unconfirmed account here: whoever registered it first chose its password, and
    confirming it for them would hand them an account in her name. The mail points her to a password reset
    instead, which makes the account hers (`password_reset.complete`).
    """
    index = email_index(runtime.keys.secret("blind_index"), email)
    subject_id = directory.subject_by_login(session, runtime, index)
    if subject_id is not None:
        mails.send(session, runtime, subject_id, mails.address_taken(runtime.settings, to=email))


def mark_verified(session: WriteSession, customer_id: str, *, now: datetime | None = None) -> None:
    """Confirm an address without a link: for accounts whose address the operator vouches for (the demo's
    consumer, whose address is no mailbox at all)."""
    customer = repository.get(session, customer_id)
    if customer is None:
        raise InvalidSession()
    customer.email_verified_at = customer.email_verified_at or now or utcnow()
    session.flush()
