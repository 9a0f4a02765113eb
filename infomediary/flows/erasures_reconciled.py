"""Erasure outlives a restore: customers whose erasure key is gone are purged from the database.

A database restored from a backup taken before an erasure brings the erased customer's rows back: her
account, sessions, password hash, index row, pseudonyms, pending offers and events. Her sealed fields stay
unreadable (the erasure key was destroyed outside the database), but her login would work again and every
read over many customers would meet her. Reconciling deletes every such customer exactly as an erasure
does (without a receipt: she is gone, and asked for this already), logs each purge in the policy log as
an erasure, and says how many it found among the key store's tombstones. `infomediary serve` runs it before
serving and `infomediary restore` after restoring; `infomediary keys reconcile` runs it on demand.

The same pass moves what a database from before issue 18 still holds of the names a customer is found by
(her login address's blind index) to the erasure-key store, and gives any account without one its customer
id (`customers.directory.adopt_legacy`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from infomediary.customers import directory
from infomediary.customers.models import Customer
from infomediary.database import WriteSession, utcnow
from infomediary.flows import account_erased
from infomediary.profiles import erasure
from infomediary.runtime import Runtime

# Customers checked against the key store per query.
_BATCH = 1_000


@dataclass(frozen=True)
class Reconciled:
    purged: int
    # Of those, how many the key store's tombstones name (the rest had no key for another reason).
    tombstoned: int
    # Accounts whose names an older database kept, moved to the erasure-key store.
    adopted: int = 0


@dataclass(frozen=True)
class Standing:
    """What `keys status` and `backup` report: erasures the key store remembers, and customers in the
    database whose erasure key is gone (0 once reconciled)."""

    tombstones: int
    unreconciled: int


def standing(session: Session, runtime: Runtime) -> Standing:
    return Standing(len(runtime.vault.tombstones()), len(_gone(session, runtime)))


def _gone(session: Session, runtime: Runtime) -> set[str]:
    every = list(session.scalars(select(Customer.id).order_by(Customer.id)))
    gone: set[str] = set()
    for start in range(0, len(every), _BATCH):
        gone |= runtime.vault.shredded_among(every[start : start + _BATCH])
    return gone


def reconcile(session: WriteSession, runtime: Runtime, now: datetime | None = None) -> Reconciled:
    """Purge every customer whose erasure key is gone, in the caller's transaction."""
    now = now or utcnow()
    gone = _gone(session, runtime)
    tombstones = runtime.vault.tombstones() if gone else set()
    for customer_id in sorted(gone):
        account_erased.delete_everything(session, customer_id)
        erasure.log_erasure(session, runtime, customer_id, now)
    adopted = directory.adopt_legacy(session, runtime)
    return Reconciled(purged=len(gone), tombstoned=len(gone & tombstones), adopted=adopted)
