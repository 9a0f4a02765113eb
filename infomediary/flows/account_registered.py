"""A consumer registered: the account, its data key, the address sealed in the vault, the log entry, and the
link that confirms the address; or, for an address that already has an account, a notice to its owner.

Both end the same way for whoever registered, so registering is no way to learn who has an account: the
caller answers alike, and in comparable time. The password is hashed in both cases, which is most of the
work; opening an account also writes its names and keys to the erasure-key store, tens of milliseconds more
on a disk that syncs, and its transaction commits more rows. So a taken address's answer waits until it took
as long as a new account typically takes in this process (a running average, `_Typical`), measured to the
end of the commit (on PostgreSQL a new account's larger commit alone was tens of milliseconds, enough to
tell the two apart): the difference left is noise, not a signal.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from infomediary import offload
from infomediary.customers import service as customers
from infomediary.customers import verification
from infomediary.customers.errors import EmailAlreadyRegistered
from infomediary.database import WriteSession
from infomediary.flows import profile_changed
from infomediary.profiles import datakeys
from infomediary.runtime import Runtime


class _Typical:
    """A running average of how long opening an account takes here (exponential, recent ones weigh most)."""

    WEIGHT = 0.2

    def __init__(self) -> None:
        self._seconds: float | None = None
        self._lock = threading.Lock()

    def observe(self, seconds: float) -> None:
        with self._lock:
            previous = self._seconds
            self._seconds = seconds if previous is None else previous + self.WEIGHT * (seconds - previous)

    def left_after(self, elapsed: float) -> float:
        with self._lock:
            return 0.0 if self._seconds is None else self._seconds - elapsed


_typical = _Typical()


_AFTER_COMMIT = "registration.after_commit"  # session.info key: what waits for the transaction's commit


def _once_committed(session: WriteSession, action: Callable[[], None]) -> None:
    """Run `action` when the transaction commits (not at a savepoint's release); a rollback drops it."""
    session.info.setdefault(_AFTER_COMMIT, []).append(action)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    if not session.in_nested_transaction():
        for action in session.info.pop(_AFTER_COMMIT, []):
            action()


@event.listens_for(Session, "after_transaction_end")
def _drop_after_rollback(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_AFTER_COMMIT, None)


def register(
    session: WriteSession, runtime: Runtime, *, email: str, password: str, address_vouched: bool = False
) -> customers.AccountView | None:
    """The new account, or None when the address already had one (its owner is mailed instead).

    `address_vouched`: the operator vouches for the address (the demo's consumer, whose address is no
    mailbox): it is confirmed at once and no link is mailed.
    """
    started = time.perf_counter()
    try:
        account = customers.open_account(session, runtime, email=email, password=password)
    except EmailAlreadyRegistered:
        verification.notify_taken(session, runtime, email)
        _once_committed(session, lambda: offload.pause(_typical.left_after(time.perf_counter() - started)))
        return None
    # The readable address lives only in the vault, under the customer's own new data key.
    [cipher] = datakeys.create(session, runtime, [account.subject_id])
    profile_changed.apply_changes(
        session, runtime, account.subject_id, {"email": email}, actor="registration", cipher=cipher
    )
    customers.log_registration(session, runtime, account.subject_id)
    if address_vouched:
        verification.mark_verified(session, account.subject_id)
    else:
        verification.send_link(session, runtime, account.subject_id, email)
    _once_committed(session, lambda: _typical.observe(time.perf_counter() - started))
    return account
