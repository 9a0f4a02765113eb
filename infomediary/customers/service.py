"""Consumer account use cases: open an account, log in (with a second factor when she has one),
authenticate a session, log out, change password, re-authenticate before an action a stolen session must not
be able to take, switch the second factor on and off. Confirming the address is `verification`; a forgotten
password is `password_reset`.

Services flush, never commit: the caller's session (one per request or command) owns the transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from infomediary.customers import directory, repository, second_factor, throttle, tokens
from infomediary.customers.blind_index import email_index
from infomediary.customers.errors import (
    EmailAlreadyRegistered,
    EmailNotVerified,
    InvalidSession,
    LoginChallengeInvalid,
    ReauthenticationFailed,
    SecondFactorAlreadyOn,
    SecondFactorFailed,
    SecondFactorReauthenticationFailed,
    WeakPassword,
)
from infomediary.customers.models import ConsumerSession, Customer
from infomediary.database import WriteSession, utcnow
from infomediary.errors import DomainError
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
class LoginChallenge:
    """The password was right and a second factor is on: the client sends this token with the code."""

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
    # Hashed first, whether or not the address is free: the argon2 work is most of a registration's time,
    # and a taken address must not answer in a fraction of it (that difference listed who has an account).
    password_hash = runtime.passwords.hash(password)
    subject_id = new_id("sub")
    try:
        customer_id = directory.name_new_account(session, runtime, subject_id, index)
    except directory.NameTaken:
        raise EmailAlreadyRegistered() from None
    customer = Customer(id=subject_id, password_hash=password_hash)
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
) -> IssuedSession | LoginChallenge:
    """The password step: a session, or, when a second factor is on, a challenge for `complete_login`.

    `EmailNotVerified` (403) for an account whose address was never confirmed, only once the password was
    found right (see the error for why it is not the 401 of a wrong password).
    """
    now = now or utcnow()
    index = email_index(runtime.keys.secret("blind_index"), email)
    subject_id = directory.subject_by_login(session, runtime, index)
    customer = repository.get(session, subject_id) if subject_id is not None else None
    active = customer is not None and customer.status == "active"
    two_step = customer is not None and second_factor.enabled(session, customer.id)
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
        clear=not two_step,
    )
    assert customer is not None  # verified against its hash above
    if customer.email_verified_at is None:
        raise EmailNotVerified()
    if runtime.passwords.needs_rehash(customer.password_hash):
        customer.password_hash = runtime.passwords.hash(password)
    if two_step:
        ttl = runtime.settings.login_challenge_ttl_seconds
        issued = tokens.issue(session, customer.id, tokens.LOGIN_CHALLENGE, ttl_seconds=ttl, now=now)
        return LoginChallenge(token=issued.token, expires_at=issued.expires_at, expires_in=ttl)
    return _open_session(session, customer.id, now, runtime.settings.consumer_session_ttl_seconds)


def complete_login(
    session: WriteSession,
    runtime: Runtime,
    *,
    challenge: str,
    code: str,
    client_address: str,
    now: datetime | None = None,
) -> IssuedSession:
    """The second step: the challenge from `login` and a code (TOTP, or a recovery code), for a session.

    A wrong code counts against the login throttle like a wrong password and leaves the challenge usable
    until it expires; the right one uses it up. `LoginChallengeInvalid` when it is unknown, used or expired.
    """
    now = now or utcnow()
    customer_id = tokens.holder(session, challenge, tokens.LOGIN_CHALLENGE, now=now)
    customer = repository.get(session, customer_id) if customer_id is not None else None
    if customer is None or customer.status != "active":
        raise LoginChallengeInvalid()
    _code_attempt(session, runtime, customer.id, code, client_address, now, SecondFactorFailed)
    if tokens.use(session, challenge, tokens.LOGIN_CHALLENGE, now=now) is None:
        raise LoginChallengeInvalid()  # another request with the same challenge won the race
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
    code: str | None = None,
    now: datetime | None = None,
) -> None:
    """The customer's current password again, before erasure, identity release or a password change: a session
    token alone (stolen, or a shared computer left logged in) must not be enough for what cannot be undone.

    Raises `ReauthenticationFailed` (403) when the password is missing or wrong, and changes nothing else. A
    wrong password counts against the login throttle of the account and of the address, like a failed login,
    so a stolen session cannot be used to guess the password; past the limit, `LoginThrottled` (429) even for
    the right one. With a second factor on, a code (TOTP or recovery) is needed too, checked and counted the
    same way; a wrong password and a wrong code then get one answer.
    """
    now = now or utcnow()
    customer = repository.get(session, customer_id)
    if customer is None:
        raise InvalidSession()
    two_step = second_factor.enabled(session, customer.id)
    refusal = SecondFactorReauthenticationFailed if two_step else ReauthenticationFailed
    if not password or (two_step and not code):
        # Nothing was guessed: no failure to count, and no argon2 work to spend. Refused before the password
        # is checked, so that a missing code tells nothing of the password.
        raise refusal("Send your current password to confirm this" if not two_step else None)
    throttle.password_attempt(
        session,
        runtime,
        login_index=customer.id.encode(),
        client_address=client_address,
        password_hash=customer.password_hash,
        password=password,
        now=now,
        refusal=refusal,
        clear=not two_step,
    )
    if two_step:
        assert code is not None
        _code_attempt(session, runtime, customer.id, code, client_address, now, refusal)


def change_password(
    session: WriteSession,
    runtime: Runtime,
    consumer: AuthenticatedConsumer,
    *,
    current_password: str,
    new_password: str,
    client_address: str,
    code: str | None = None,
    now: datetime | None = None,
) -> None:
    now = now or utcnow()
    reauthenticate(
        session,
        runtime,
        consumer.customer_id,
        password=current_password,
        code=code,
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
    tokens.revoke(session, customer.id, tokens.LOGIN_CHALLENGE)
    # A change of login address asked for with a stolen session ends with it (the notice says so).
    tokens.revoke(session, customer.id, tokens.CHANGE_EMAIL)
    session.flush()


def begin_second_factor(
    session: WriteSession,
    runtime: Runtime,
    consumer: AuthenticatedConsumer,
    *,
    password: str | None,
    client_address: str,
    now: datetime | None = None,
) -> second_factor.Enrolment:
    """A new authenticator secret, after the password again: a stolen session must not be able to put its own
    authenticator on her account and lock her out of it. Pending until `confirm_second_factor`."""
    now = now or utcnow()
    if second_factor.enabled(session, consumer.customer_id):
        raise SecondFactorAlreadyOn()
    reauthenticate(
        session, runtime, consumer.customer_id, password=password, client_address=client_address, now=now
    )
    return second_factor.begin(
        session, runtime, consumer.customer_id, label=_app_label(runtime, consumer), now=now
    )


def pending_second_factor(
    session: Session, runtime: Runtime, consumer: AuthenticatedConsumer
) -> second_factor.Enrolment | None:
    """The authenticator being set up (its secret again, for the page after a mistyped first code)."""
    return second_factor.pending(session, runtime, consumer.customer_id, label=_app_label(runtime, consumer))


def _app_label(runtime: Runtime, consumer: AuthenticatedConsumer) -> str:
    # How the authenticator app names the account: the customer id she is shown, not her address, so the
    # URI (and a screenshot of it) carries nothing personal.
    return directory.customer_id_of(runtime, consumer.customer_id) or "account"


def confirm_second_factor(
    session: WriteSession,
    runtime: Runtime,
    consumer: AuthenticatedConsumer,
    *,
    code: str,
    now: datetime | None = None,
) -> list[str]:
    """Switch two-step sign-in on with the authenticator's first code; the recovery codes, shown once."""
    return second_factor.confirm(session, runtime, consumer.customer_id, code, now=now or utcnow())


def disable_second_factor(
    session: WriteSession,
    runtime: Runtime,
    consumer: AuthenticatedConsumer,
    *,
    password: str | None,
    code: str | None,
    client_address: str,
    now: datetime | None = None,
) -> None:
    """Switch two-step sign-in off, with the password and a code (a recovery code will do)."""
    reauthenticate(
        session,
        runtime,
        consumer.customer_id,
        password=password,
        code=code,
        client_address=client_address,
        now=now,
    )
    second_factor.remove(session, consumer.customer_id)


def describe(session: Session, runtime: Runtime, consumer: AuthenticatedConsumer) -> AccountView:
    return account(session, runtime, consumer.customer_id)


def _code_attempt(
    session: WriteSession,
    runtime: Runtime,
    customer_id: str,
    code: str,
    client_address: str,
    now: datetime,
    refusal: type[DomainError],
) -> None:
    """A second-factor code under the login throttle of the account (by its internal id) and the address."""
    throttle.code_attempt(
        session,
        runtime,
        login_index=customer_id.encode(),
        client_address=client_address,
        accepted=lambda: second_factor.accept(session, runtime, customer_id, code, now=now),
        now=now,
        refusal=refusal,
    )
