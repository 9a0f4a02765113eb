"""Changing the login address: a link mailed to the new address confirms it, and only following it moves the
login there (`flows.login_email_changed` moves the profile's readable address with it).

Asking answers the same whether or not the new address is another account's login, and leaves the same
traces: a token is issued either way (its database work, and ending an earlier change's link), the current
address is told either way, and the same share of her hourly mails is spent. Only the new address's mailbox
learns which case it was: a free address gets the link; the owner of a taken one is told someone tried, and
nothing else happens. So a stolen session can neither list who has an account nor move the login to an
address its thief does not read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from infomediary.customers import directory, mails, repository, tokens
from infomediary.customers.blind_index import email_index
from infomediary.customers.errors import LinkInvalid, NewAddressTaken
from infomediary.database import WriteSession, utcnow
from infomediary.runtime import Runtime


@dataclass(frozen=True)
class Confirmed:
    """A followed link: whose login moves, and the new address as the caller sealed it when asking."""

    customer_id: str
    sealed_address: bytes


def is_her_login(session: Session, runtime: Runtime, customer_id: str, email: str) -> bool:
    """Whether `email` already is her login, perhaps written differently (case): nothing to confirm."""
    index = email_index(runtime.keys.secret("blind_index"), email)
    return directory.subject_by_login(session, runtime, index) == customer_id


def request(
    session: WriteSession,
    runtime: Runtime,
    customer_id: str,
    *,
    current_email: str | None,
    new_email: str,
    sealed_address: bytes,
    now: datetime | None = None,
) -> None:
    """Ask to move her login to `new_email`; `sealed_address` is that address sealed under her data key,
    kept with the link's token until it is followed. Nothing changes until then. `current_email`, her
    readable address (None only for an account that never had one), is told of it."""
    now = now or utcnow()
    index = email_index(runtime.keys.secret("blind_index"), new_email)
    holder = directory.subject_by_login(session, runtime, index)
    issued = tokens.issue(
        session,
        customer_id,
        tokens.CHANGE_EMAIL,
        ttl_seconds=runtime.settings.email_change_ttl_seconds,
        now=now,
        payload=sealed_address,
    )
    settings = runtime.settings
    if current_email is not None:
        notice = mails.email_change_notice(settings, to=current_email, new_address=new_email)
        mails.send(session, runtime, customer_id, notice)
    if not mails.spend(session, runtime, customer_id):
        return
    if holder is None:
        link = mails.confirm_new_email(
            settings, to=new_email, token=issued.token, expires_at=issued.expires_at
        )
        mails.deliver(session, runtime, link)
    else:
        # The token just issued is mailed to nobody: it only ended her earlier link, as a free address does.
        mails.send(session, runtime, holder, mails.address_taken_by_change(settings, to=new_email))


def link_holder(session: Session, token: str, *, now: datetime | None = None) -> str | None:
    """Whose address the link would still change, or None once it cannot (the page shows its form, asking
    for a code too if her two-step sign-in is on, or says the link expired)."""
    return tokens.holder(session, token, tokens.CHANGE_EMAIL, now=now or utcnow())


def redeem(session: WriteSession, token: str, *, now: datetime | None = None) -> Confirmed:
    """Use the link's token; `LinkInvalid` when it is unknown, used, expired or its account is not active."""
    used = tokens.use_with_payload(session, token, tokens.CHANGE_EMAIL, now=now or utcnow())
    customer = repository.get(session, used.customer_id) if used is not None else None
    if used is None or used.payload is None or customer is None or customer.status != "active":
        raise LinkInvalid()
    return Confirmed(customer_id=customer.id, sealed_address=used.payload)


def move_login(
    session: WriteSession, runtime: Runtime, customer_id: str, new_email: str, *, now: datetime | None = None
) -> None:
    """Sign in with `new_email` from now on, the old address no more. `NewAddressTaken` if an account was
    registered with it since the change was asked for; then nothing changes.

    The names live outside the database transaction (`directory`): callers do their database work first, so
    that this comes last and a failure before it leaves the login as it was.
    """
    customer = repository.get(session, customer_id)
    if customer is None:
        raise LinkInvalid()
    index = email_index(runtime.keys.secret("blind_index"), new_email)
    try:
        directory.rename_login(session, runtime, customer_id, index)
    except directory.NameTaken:
        raise NewAddressTaken() from None
    # Following the link proved she reads the new mailbox, as confirming an address at registration does.
    customer.email_verified_at = customer.email_verified_at or now or utcnow()
    session.flush()
