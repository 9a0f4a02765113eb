"""How a customer is found from outside: her login address and the id she is shown, kept out of the database.

The database knows a customer only by an internal subject id (`customers.id`) that never leaves the service.
The names the outside world knows her by map to it only in the vault's erasure-key store, next to her
erasure key, and are destroyed with it:

* her login address, as its keyed blind index (`KIND_EMAIL`);
* her customer id, the one `/v1/me` shows her and her export carries (`KIND_CUSTOMER_ID`): 64 random bits,
  also what her pseudonyms encrypt (`pseudonyms.service`), so a pseudonym opens to nothing once she is gone.

Why: a database backup outlives an erasure. Were the blind index a column of `customers`, anyone with that
backup and the current key material could compute it from her address and follow the internal id to every
row of hers (her audience-index row, consents, rewards, offers), long after her key was destroyed. With the
names kept here, the backup holds rows keyed by an id that nothing maps to her any more (issue 18).

The store is not part of the database transaction. A registration whose transaction rolls back leaves its
names behind, bound to a subject with no account; such a name is stale, and the next registration of the
same address takes it over (`ExistingHolder`), under the database's writer serialisation so that two
registrations cannot both take it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from infomediary.customers.models import Customer
from infomediary.database import WriteSession
from infomediary.runtime import Runtime

KIND_EMAIL = "login-email"
KIND_CUSTOMER_ID = "customer-id"
CUSTOMER_ID_PREFIX = "cus_"
CUSTOMER_ID_BYTES = 8
# Subjects per lookup when adopting a legacy database: keeps each store call and statement small.
_BATCH = 1000


class NameTaken(Exception):
    """The address is the login of another live account."""


def new_customer_id() -> str:
    return CUSTOMER_ID_PREFIX + secrets.token_hex(CUSTOMER_ID_BYTES)


def customer_id_bytes(customer_id: str) -> bytes | None:
    """The 8 bytes a customer id stands for, or None if it cannot be one."""
    if not customer_id.startswith(CUSTOMER_ID_PREFIX):
        return None
    digits = customer_id[len(CUSTOMER_ID_PREFIX) :]
    if len(digits) != 2 * CUSTOMER_ID_BYTES:
        return None
    try:
        return bytes.fromhex(digits)
    except ValueError:
        return None


def customer_id_from_bytes(raw: bytes) -> str:
    return CUSTOMER_ID_PREFIX + raw.hex()


def _live(session: Session, subject_id: str) -> bool:
    return session.scalar(select(Customer.id).where(Customer.id == subject_id)) is not None


def name_new_account(session: WriteSession, runtime: Runtime, subject_id: str, email_index: bytes) -> str:
    """Bind a new account's login address and a fresh customer id to its subject; returns the customer id.

    Raises `NameTaken` when the address is the login of another live account. Called in the registration's
    transaction, which holds the writer lock (SQLite) or the address's advisory lock (PostgreSQL), so a stale
    name is taken over by one registration only.
    """
    _lock_address(session, email_index)
    vault = runtime.vault
    holder = vault.name(KIND_EMAIL, email_index.hex(), subject_id)
    if holder is not None:
        if _live(session, holder):
            raise NameTaken()
        if vault.name(KIND_EMAIL, email_index.hex(), subject_id, replacing=holder) is not None:
            raise NameTaken()
    return _give_customer_id(runtime, subject_id)


def _give_customer_id(runtime: Runtime, subject_id: str) -> str:
    while True:
        customer_id = new_customer_id()
        # 64 random bits: a clash is all but impossible, and a clash is refused, never shared.
        if runtime.vault.name(KIND_CUSTOMER_ID, customer_id, subject_id) is None:
            return customer_id


def name_loaded_accounts(runtime: Runtime, email_indices: Mapping[str, bytes]) -> dict[str, str]:
    """Bulk loading into a new database (the demo, benchmarks): bind each subject's login address and a
    fresh customer id; returns subject -> customer id."""
    runtime.vault.name_many(KIND_EMAIL, {subject: index.hex() for subject, index in email_indices.items()})
    shown = {subject: new_customer_id() for subject in email_indices}
    runtime.vault.name_many(KIND_CUSTOMER_ID, shown)
    return shown


def rename_login(session: WriteSession, runtime: Runtime, subject_id: str, email_index: bytes) -> None:
    """Log in with another address from now on; `NameTaken` if it is another live account's."""
    _lock_address(session, email_index)
    vault = runtime.vault
    value = email_index.hex()
    holder = vault.named(KIND_EMAIL, value)
    if holder == subject_id:
        return
    if holder is not None and _live(session, holder):
        raise NameTaken()
    vault.unname(KIND_EMAIL, subject_id)
    if vault.name(KIND_EMAIL, value, subject_id, replacing=holder) is not None:
        raise NameTaken()


def _lock_address(session: WriteSession, email_index: bytes) -> None:
    # PostgreSQL: a transaction-scoped advisory lock on the address, so that two registrations of one address
    # take turns (the first's account is then visible to the second). SQLite's writers already take turns.
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(email_index[:8], "big", signed=True)
        session.execute(select(func.pg_advisory_xact_lock(key)))


def subject_by_login(session: Session, runtime: Runtime, email_index: bytes) -> str | None:
    """The live account a login address names, if any."""
    subject_id = runtime.vault.named(KIND_EMAIL, email_index.hex())
    return subject_id if subject_id is not None and _live(session, subject_id) else None


def customer_id_of(runtime: Runtime, subject_id: str) -> str | None:
    """The customer id a subject is shown as; None once she is erased."""
    return runtime.vault.names_of(KIND_CUSTOMER_ID, [subject_id]).get(subject_id)


def customer_ids_of(runtime: Runtime, subject_ids: Iterable[str]) -> dict[str, str]:
    return runtime.vault.names_of(KIND_CUSTOMER_ID, subject_ids)


def subject_by_customer_id(runtime: Runtime, customer_id: str) -> str | None:
    return runtime.vault.named(KIND_CUSTOMER_ID, customer_id)


def adopt_legacy(session: WriteSession, runtime: Runtime) -> int:
    """Move the login addresses an older schema kept in `customers.email_index` into the store, and give
    every account without one a customer id; returns the accounts changed. Idempotent: run at start-up and
    after a restore, before anything else reads accounts."""
    vault = runtime.vault
    changed: set[str] = set()
    legacy = session.execute(
        select(Customer.id, Customer.email_index).where(Customer.email_index.is_not(None))
    ).all()
    for start in range(0, len(legacy), _BATCH):
        batch = legacy[start : start + _BATCH]
        for subject_id, index in batch:
            value = bytes(index or b"").hex()
            holder = vault.name(KIND_EMAIL, value, subject_id)
            if holder is not None and not _live(session, holder):
                vault.name(KIND_EMAIL, value, subject_id, replacing=holder)
        session.execute(
            update(Customer)
            .where(Customer.id.in_([subject_id for subject_id, _ in batch]))
            .values(email_index=None)
        )
        changed.update(subject_id for subject_id, _ in batch)
    subjects = list(session.scalars(select(Customer.id)))
    for start in range(0, len(subjects), _BATCH):
        batch_ids = subjects[start : start + _BATCH]
        named = vault.names_of(KIND_CUSTOMER_ID, batch_ids)
        for subject_id in batch_ids:
            if subject_id not in named:
                _give_customer_id(runtime, subject_id)
                changed.add(subject_id)
    session.flush()
    return len(changed)
