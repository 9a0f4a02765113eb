"""Login throttling per account and per client address.

Failures are counted in a sliding window in the database, so every API worker sees the same counts. Keys are
HMACs, so neither the email nor the client address is stored. Unknown emails are throttled exactly like known
ones: the throttle must not become a registration oracle.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from infomediary.customers.errors import InvalidCredentials, LoginThrottled
from infomediary.customers.models import LoginFailure
from infomediary.database import WriteSession
from infomediary.errors import DomainError
from infomediary.runtime import Runtime


@dataclass(frozen=True)
class ThrottleKeys:
    account: bytes
    address: bytes


def throttle_keys(secret: bytes, email_index: bytes, client_address: str) -> ThrottleKeys:
    return ThrottleKeys(
        account=hmac.new(secret, b"account\x00" + email_index, hashlib.sha256).digest(),
        address=hmac.new(secret, b"address\x00" + client_address.encode(), hashlib.sha256).digest(),
    )


def check(
    session: Session,
    keys: ThrottleKeys,
    *,
    now: datetime,
    window: timedelta,
    max_per_account: int,
    max_per_address: int,
) -> None:
    since = now - window
    for key, limit in ((keys.account, max_per_account), (keys.address, max_per_address)):
        count, oldest = session.execute(
            select(func.count(), func.min(LoginFailure.failed_at)).where(
                LoginFailure.key == key, LoginFailure.failed_at > since
            )
        ).one()
        if count >= limit:
            oldest_at = oldest if oldest.tzinfo else oldest.replace(tzinfo=now.tzinfo)
            retry_after = max(1, int((oldest_at + window - now).total_seconds()) + 1)
            raise LoginThrottled(retry_after=retry_after)


def record_failure(session: WriteSession, keys: ThrottleKeys, *, now: datetime, window: timedelta) -> None:
    """Recorded in the request's transaction; `InvalidCredentials` is a refusal that commits it."""
    session.add_all(
        [LoginFailure(key=keys.account, failed_at=now), LoginFailure(key=keys.address, failed_at=now)]
    )
    # Keep the table small: anything older than the window no longer matters.
    session.execute(delete(LoginFailure).where(LoginFailure.failed_at < now - 2 * window))
    session.flush()


def clear_account(session: WriteSession, keys: ThrottleKeys) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.key == keys.account))


def forgive(session: WriteSession, runtime: Runtime, login_index: bytes) -> None:
    """Clear an account's failures (she proved she is its owner some other way: a password reset link)."""
    account = throttle_keys(runtime.keys.secret("throttle"), login_index, "").account
    session.execute(delete(LoginFailure).where(LoginFailure.key == account))


def password_attempt(
    session: WriteSession,
    runtime: Runtime,
    *,
    login_index: bytes,
    client_address: str,
    password_hash: str | None,
    password: str,
    now: datetime,
    refusal: type[DomainError] = InvalidCredentials,
    clear: bool = True,
) -> None:
    """One password login under the throttle, for consumers and operators alike, and the re-authentication
    of a logged-in customer (`refusal` then says so: it is not a failed login to the client).

    Refuses (429) when the account or the address failed too often lately; verifies the password, against a
    dummy hash when there is no usable account (`password_hash` None: same work, same answer); records the
    failure and raises `refusal`, or clears the account's failures. Not with `clear=False`: when a second
    factor follows, the failures are cleared only once its code is right too (`code_attempt`), or the right
    password would wipe the count of wrong codes before each new round of guesses.
    """
    _attempt(
        session,
        runtime,
        login_index=login_index,
        client_address=client_address,
        # The hash is checked first either way (a dummy one when there is none): the same work.
        accepted=lambda: runtime.passwords.verify(password_hash, password) and password_hash is not None,
        now=now,
        refusal=refusal,
        clear=clear,
    )


def code_attempt(
    session: WriteSession,
    runtime: Runtime,
    *,
    login_index: bytes,
    client_address: str,
    accepted: Callable[[], bool],
    now: datetime,
    refusal: type[DomainError],
) -> None:
    """One second-factor code under the same throttle as passwords: a wrong code counts as a failed login
    of the account and the address (5 wrong codes, or passwords, in the window and the account waits), and a
    right one clears the account's failures. `accepted()` checks (and spends) the code."""
    _attempt(
        session,
        runtime,
        login_index=login_index,
        client_address=client_address,
        accepted=accepted,
        now=now,
        refusal=refusal,
        clear=True,
    )


def _attempt(
    session: WriteSession,
    runtime: Runtime,
    *,
    login_index: bytes,
    client_address: str,
    accepted: Callable[[], bool],
    now: datetime,
    refusal: type[DomainError],
    clear: bool,
) -> None:
    """Refuse (429) past the limits; else check the secret with `accepted()`: a failure is recorded with the
    refusal, a success clears the account's failures when `clear`."""
    settings = runtime.settings
    window = timedelta(seconds=settings.login_window_seconds)
    keys = throttle_keys(runtime.keys.secret("throttle"), login_index, client_address)
    check(
        session,
        keys,
        now=now,
        window=window,
        max_per_account=settings.login_max_failures_per_account,
        max_per_address=settings.login_max_failures_per_address,
    )
    if not accepted():
        raise refusal().recording(lambda record_in: record_failure(record_in, keys, now=now, window=window))
    if clear:
        clear_account(session, keys)
