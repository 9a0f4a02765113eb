"""Consumer account use cases: open an account, log in, authenticate a session, log out, change password,
re-authenticate before an action a stolen session must not be able to take.

Services flush, never commit: the caller's session (one per request or command) owns the transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from infomediary.customers import directory, repository, throttle
from infomediary.customers.blind_index import email_index
from infomediary.customers.errors import (
    EmailAlreadyRegistered,
    InvalidSession,
    ReauthenticationFailed,
    WeakPassword,
)
from infomediary.customers.models import ConsumerSession, Customer
from infomediary.database import WriteSession, utcnow
from infomediary.ids import new_id
from infomediary.policylog import kinds as log_kinds
from infomediary.policylog.service import append as log_append
from infomediary.policylog.service import log_pseudonym
from infomediary.runtime import Runtime


@dataclass(frozen=True)
class IssuedSession:
    token: str
    expires_at: datetime
    expires_in: int


@dataclass(frozen=True)
class AuthenticatedConsumer:
    customer_id: str
    session_id: str


@dataclass(frozen=True)
class AccountView:
    # The internal subject id (every table's key) and the customer id she is shown (`directory`).
    subject_id: str
    customer_id: str
    created_at: datetime


def hash_session_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def open_account(session: WriteSession, runtime: Runtime, *, email: str, password: str) -> AccountView:
    """The account itself, found again by the email's blind index (kept with the keys, `directory`);
    `flows.account_registered` does the rest of a registration (the readable address in the vault, the log
    entry)."""
    index = email_index(runtime.keys.secret("blind_index"), email)
    subject_id = new_id("sub")
    try:
        customer_id = directory.name_new_account(session, runtime, subject_id, index)
    except directory.NameTaken:
        raise EmailAlreadyRegistered() from None
    customer = Customer(id=subject_id, password_hash=runtime.passwords.hash(password))
    session.add(customer)
    session.flush()
    return AccountView(subject_id=subject_id, customer_id=customer_id, created_at=customer.created_at)


def account(session: Session, runtime: Runtime, subject_id: str) -> AccountView:
    """The account as its owner sees it: the customer id she is shown, and when she opened it."""
    customer = repository.get(session, subject_id)
    customer_id = directory.customer_id_of(runtime, subject_id)
    if customer is None or customer_id is None:
        raise InvalidSession()
    return AccountView(subject_id=subject_id, customer_id=customer_id, created_at=customer.created_at)


def log_registration(session: WriteSession, runtime: Runtime, customer_id: str) -> None:
    log_append(session, registration_entry(runtime, customer_id))


def change_login_email(session: WriteSession, runtime: Runtime, customer_id: str, email: str) -> None:
    """Log in with `email` from now on (the readable address itself lives in the profile)."""
    index = email_index(runtime.keys.secret("blind_index"), email)
    try:
        directory.rename_login(session, runtime, customer_id, index)
    except directory.NameTaken:
        raise EmailAlreadyRegistered() from None


def require_account(session: Session, customer_id: str) -> None:
    """An account already erased (a second request racing the first) reads as a session that is gone."""
    if repository.get(session, customer_id) is None:
        raise InvalidSession()


def delete_account(session: WriteSession, customer_id: str) -> int:
    """Delete the account and its sessions (no token of it works again); returns the sessions deleted."""
    return repository.delete(session, customer_id)


def registration_entry(runtime: Runtime, customer_id: str) -> dict[str, str]:
    """The policy-log entry of a new account (the demo's bulk seeder appends the same, in bulk)."""
    return {"kind": log_kinds.ACCOUNT_REGISTERED, "subject": log_pseudonym(runtime, customer_id)}


def login(
    session: WriteSession,
    runtime: Runtime,
    *,
    email: str,
    password: str,
    client_address: str,
    now: datetime | None = None,
) -> IssuedSession:
    now = now or utcnow()
    index = email_index(runtime.keys.secret("blind_index"), email)
    subject_id = directory.subject_by_login(session, runtime, index)
    customer = repository.get(session, subject_id) if subject_id is not None else None
    active = customer is not None and customer.status == "active"
    throttle.password_attempt(
        session,
        runtime,
        # An account is throttled under its internal id, an unknown address under its blind index: no row
        # of the throttle is computable from a known customer's address (see `directory`).
        login_index=subject_id.encode() if subject_id is not None else index,
        client_address=client_address,
        password_hash=customer.password_hash if active and customer else None,
        password=password,
        now=now,
    )
    assert customer is not None  # verified against its hash above
    if runtime.passwords.needs_rehash(customer.password_hash):
        customer.password_hash = runtime.passwords.hash(password)
    return _open_session(session, customer.id, now, runtime.settings.consumer_session_ttl_seconds)


def _open_session(session: WriteSession, customer_id: str, now: datetime, ttl: int) -> IssuedSession:
    token = secrets.token_urlsafe(32)
    expires_at = now + timedelta(seconds=ttl)
    session.add(
        ConsumerSession(
            id=new_id("ses"),
            token_hash=hash_session_token(token),
            customer_id=customer_id,
            created_at=now,
            expires_at=expires_at,
        )
    )
    session.flush()
    return IssuedSession(token=token, expires_at=expires_at, expires_in=ttl)


def authenticate(
    session: Session, token: str, now: datetime | None = None, *, for_writing: bool = False
) -> AuthenticatedConsumer:
    """The consumer behind a session token. `for_writing` (a request that will change the customer's data)
    locks the customer's row until the transaction ends: one customer's writes run one at a time."""
    found = repository.get_live_session(session, hash_session_token(token), now or utcnow(), lock=for_writing)
    if found is None:
        raise InvalidSession()
    session_id, customer_id = found
    return AuthenticatedConsumer(customer_id=customer_id, session_id=session_id)


def logout(session: WriteSession, consumer: AuthenticatedConsumer, now: datetime | None = None) -> None:
    consumer_session = session.get(ConsumerSession, consumer.session_id)
    if consumer_session is not None and consumer_session.revoked_at is None:
        consumer_session.revoked_at = now or utcnow()
        session.flush()


def reauthenticate(
    session: WriteSession,
    runtime: Runtime,
    customer_id: str,
    *,
    password: str | None,
    client_address: str,
    now: datetime | None = None,
) -> None:
    """The customer's current password again, before erasure, identity release or a password change: a session
    token alone (stolen, or a shared computer left logged in) must not be enough for what cannot be undone.

    Raises `ReauthenticationFailed` (403) when the password is missing or wrong, and changes nothing else. A
    wrong password counts against the login throttle of the account and of the address, like a failed login,
    so a stolen session cannot be used to guess the password; past the limit, `LoginThrottled` (429) even for
    the right one. The second factor, once there is one, is checked here too.
    """
    customer = repository.get(session, customer_id)
    if customer is None:
        raise InvalidSession()
    if not password:
        # Nothing was guessed: no failure to count, and no argon2 work to spend.
        raise ReauthenticationFailed("Send your current password to confirm this")
    throttle.password_attempt(
        session,
        runtime,
        login_index=customer.id.encode(),
        client_address=client_address,
        password_hash=customer.password_hash,
        password=password,
        now=now or utcnow(),
        refusal=ReauthenticationFailed,
    )


def change_password(
    session: WriteSession,
    runtime: Runtime,
    consumer: AuthenticatedConsumer,
    *,
    current_password: str,
    new_password: str,
    client_address: str,
    now: datetime | None = None,
) -> None:
    now = now or utcnow()
    reauthenticate(
        session,
        runtime,
        consumer.customer_id,
        password=current_password,
        client_address=client_address,
        now=now,
    )
    customer = repository.get(session, consumer.customer_id)
    assert customer is not None  # re-authenticated above
    if secrets.compare_digest(current_password.encode(), new_password.encode()):
        raise WeakPassword("The new password must differ from the current one")
    customer.password_hash = runtime.passwords.hash(new_password)
    customer.password_changed_at = now
    # A changed password ends every other session: whoever knew the old one is logged out.
    repository.revoke_sessions(session, customer.id, now, except_id=consumer.session_id)
    session.flush()


def describe(session: Session, runtime: Runtime, consumer: AuthenticatedConsumer) -> AccountView:
    return account(session, runtime, consumer.customer_id)
