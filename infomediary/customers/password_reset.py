"""Setting a new password through a single-use, expiring link mailed to the login address.

Asking answers the same whether the address has an account or not (the caller says "if there is an
account, a link is on its way"); only an existing, active account is mailed. Completing it sets the new
password, ends every session, pending sign-in and pending change of login address, and confirms the
address: the link reached its mailbox, which is what confirmation proves. It does not switch off a second
factor: the next sign-in still needs it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from infomediary.customers import directory, mails, repository, throttle, tokens
from infomediary.customers.blind_index import email_index
from infomediary.customers.errors import LinkInvalid
from infomediary.database import WriteSession, utcnow
from infomediary.runtime import Runtime


def request(session: WriteSession, runtime: Runtime, email: str, *, now: datetime | None = None) -> None:
    now = now or utcnow()
    index = email_index(runtime.keys.secret("blind_index"), email)
    subject_id = directory.subject_by_login(session, runtime, index)
    customer = repository.get(session, subject_id) if subject_id is not None else None
    if customer is None or customer.status != "active":
        return
    issued = tokens.issue(
        session,
        customer.id,
        tokens.RESET_PASSWORD,
        ttl_seconds=runtime.settings.password_reset_ttl_seconds,
        now=now,
    )
    mail = mails.password_reset(runtime.settings, to=email, token=issued.token, expires_at=issued.expires_at)
    mails.send(session, runtime, customer.id, mail)


def link_is_live(session: Session, token: str, *, now: datetime | None = None) -> bool:
    """Whether the link would still set a password (the page shows the form, or says it expired)."""
    return tokens.holder(session, token, tokens.RESET_PASSWORD, now=now or utcnow()) is not None


def complete(
    session: WriteSession, runtime: Runtime, token: str, new_password: str, *, now: datetime | None = None
) -> None:
    """Set the new password; `LinkInvalid` if the link is not live (and then nothing changes)."""
    now = now or utcnow()
    customer_id = tokens.use(session, token, tokens.RESET_PASSWORD, now=now)
    customer = repository.get(session, customer_id) if customer_id is not None else None
    if customer is None or customer.status != "active":
        raise LinkInvalid()
    customer.password_hash = runtime.passwords.hash(new_password)
    customer.password_changed_at = now
    customer.email_verified_at = customer.email_verified_at or now
    # Whoever knew the old password (or held a session) is out, including a sign-in waiting for its code.
    repository.revoke_sessions(session, customer.id, now)
    tokens.revoke(session, customer.id, tokens.LOGIN_CHALLENGE)
    # So does a change of login address asked for with a stolen session (the notice of it says so).
    tokens.revoke(session, customer.id, tokens.CHANGE_EMAIL)
    # She proved she holds the mailbox: failed guesses by someone else no longer lock her out.
    throttle.forgive(session, runtime, customer.id.encode())
    session.flush()
