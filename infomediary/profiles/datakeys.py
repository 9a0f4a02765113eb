"""Each customer's data key: created at registration, loaded for every seal and open, destroyed on erasure.

The wrapped key lives in ``customer_keys``; the vault (key file and erasure keys outside the database) does
the cryptography. ``CustomerCipher`` binds one customer's wrapped key to the vault, so callers name only the
field and its value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, SessionTransaction

from infomediary import bulkload
from infomediary.database import WriteSession, utcnow
from infomediary.profiles import repository
from infomediary.profiles.errors import CustomerKeyMissing, CustomerShredded, VaultUnreadable
from infomediary.profiles.models import CustomerKey
from infomediary.runtime import Runtime
from vault import DataKeyDestroyed, DecryptionFailed, Vault, WrappedKey


class CustomerCipher:
    """Seal and open one customer's values; a failure to decrypt becomes :class:`VaultUnreadable`."""

    __slots__ = ("_customer_id", "_vault", "_wrapped")

    def __init__(self, vault: Vault, customer_id: str, wrapped: WrappedKey) -> None:
        self._vault = vault
        self._customer_id = customer_id
        self._wrapped = wrapped

    @property
    def customer_id(self) -> str:
        return self._customer_id

    def seal(self, name: str, plaintext: bytes, schema_version: int) -> bytes:
        return self._vault.seal_field(self._customer_id, self._wrapped, name, plaintext, schema_version)

    def open(self, name: str, ciphertext: bytes, schema_version: int) -> bytes:
        try:
            return self._vault.open_field(self._customer_id, self._wrapped, name, ciphertext, schema_version)
        except DataKeyDestroyed as exc:
            raise CustomerShredded(str(exc)) from exc
        except DecryptionFailed as exc:
            # The message names customer and field, never a value; it is safe to log and to return.
            raise VaultUnreadable(str(exc)) from exc


def create(session: WriteSession, runtime: Runtime, customer_ids: Sequence[str]) -> list[CustomerCipher]:
    """Give each (new) customer a data key and store it wrapped; returns their ciphers."""
    wrapped_keys = runtime.vault.create_data_keys(customer_ids)
    now = utcnow()
    # Core rows, not ORM objects: the demo seeder passes thousands at a time.
    session.flush()
    bulkload.insert_rows(
        session,
        CustomerKey,
        [
            {
                "customer_id": customer_id,
                "wrapped_key": wrapped.to_bytes(),
                "kek_version": wrapped.kek_version,
                "created_at": now,
            }
            for customer_id, wrapped in zip(customer_ids, wrapped_keys, strict=True)
        ],
    )
    return [
        CustomerCipher(runtime.vault, customer_id, wrapped)
        for customer_id, wrapped in zip(customer_ids, wrapped_keys, strict=True)
    ]


# session.info key: the ciphers already read in the session's current transaction (`_Held`).
_CIPHERS = "datakeys.ciphers"


@dataclass
class _Held:
    transaction: SessionTransaction | None
    ciphers: dict[str, CustomerCipher] = field(default_factory=dict)


def cipher_for(session: Session, runtime: Runtime, customer_id: str) -> CustomerCipher:
    """The customer's cipher, its wrapped key read once per transaction.

    A profile correction read the same key four times (the change, the audience index, the response); each
    read is a statement, and statements are most of a request's cost. Kept for the transaction only, and
    forgotten when the key is deleted in it (`forget`), so an erased customer's key is missing at once.
    """
    held: _Held | None = session.info.get(_CIPHERS)
    if held is not None and held.transaction is session.get_transaction():
        known = held.ciphers.get(customer_id)
        if known is not None:
            return known
    raw = repository.wrapped_key(session, customer_id)
    if raw is None:
        raise CustomerKeyMissing()
    cipher = CustomerCipher(runtime.vault, customer_id, WrappedKey.from_bytes(raw))
    transaction = session.get_transaction()  # begun by the read above, if it was not already
    if held is None or held.transaction is not transaction:
        held = session.info[_CIPHERS] = _Held(transaction)
    held.ciphers[customer_id] = cipher
    return cipher


def forget(session: Session, customer_id: str) -> None:
    """Drop the customer's cipher from this transaction's: its key is being deleted."""
    held: _Held | None = session.info.get(_CIPHERS)
    if held is not None:
        held.ciphers.pop(customer_id, None)
