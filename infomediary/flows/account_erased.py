"""The customer erased their account: out of every count, every row of theirs deleted, the keys destroyed.

Order matters (`profiles.erasure`): the customer leaves the audience index first (cached answers that
counted them are retired), then their rows go, each domain's own and the account last (so the vault rows
are counted before the account's foreign keys would cascade to them), all flushed in the caller's
transaction and logged in it; only then is the erasure key destroyed, outside the database, and the receipt
signed. Tables that reference the customer and are not counted on the receipt go with the account row
(their foreign keys cascade).
"""

from __future__ import annotations

from datetime import datetime

from infomediary.audiences import index as audience_index
from infomediary.customers import directory
from infomediary.customers import service as customers
from infomediary.database import WriteSession, utcnow
from infomediary.profiles import erasure
from infomediary.profiles import service as profiles
from infomediary.recommendations import exclusions
from infomediary.runtime import Runtime
from infomediary.vouchers import service as vouchers


def delete_everything(session: WriteSession, customer_id: str) -> dict[str, int]:
    """Every row of the customer, in order, flushed; the counts for the receipt. Also what reconciling a
    restored database does to a customer whose erasure key is gone (`flows.erasures_reconciled`)."""
    audience_index.remove(session, customer_id)
    rows = erasure.delete_vault(session, customer_id)
    # Sealed under the customer's key, but erasure leaves nothing of the customer behind, ciphertext included.
    rows["recommendation_exclusions"] = exclusions.erase(session, customer_id)
    rows["consumer_sessions"] = customers.delete_account(session, customer_id)
    rows["customers"] = 1
    session.flush()
    return rows


def erase_account(
    session: WriteSession,
    runtime: Runtime,
    customer_id: str,
    *,
    password: str | None,
    client_address: str,
    code: str | None = None,
    now: datetime | None = None,
) -> erasure.ErasureResult:
    """Erase the account, once the customer has given their password again (`customers.reauthenticate`):
    a stolen session must not be able to erase a customer."""
    now = now or utcnow()
    customers.require_account(session, customer_id)
    customers.reauthenticate(
        session, runtime, customer_id, password=password, code=code, client_address=client_address
    )
    # The receipt names her by the customer id she knows, read before the shredding destroys that name too;
    # the internal id must not reach her (or anyone she shows the receipt to): a database backup holds it.
    shown_as = directory.customer_id_of(runtime, customer_id) or ""
    address = profiles.values_of(session, runtime, [customer_id], ["email"]).get(customer_id, {}).get("email")
    # While her erasure key still exists: afterwards nobody can find her vouchers to refund or unlink them.
    # Unspent ones stay spendable by whoever holds the code, tied to nobody (`vouchers.service`).
    vouchers.release_holder(session, runtime, customer_id, now)
    rows = delete_everything(session, customer_id)
    erasure.log_erasure(session, runtime, customer_id, now)
    destroyed = runtime.vault.shred(customer_id)
    if isinstance(address, str):
        # The embedded default keeps the mail it would have sent (`infomediary.mail.spool`): hers goes too,
        # like the key, outside the database.
        runtime.mail.forget(address)
    return erasure.receipt(runtime, shown_as, now, rows, erasure_key_destroyed=destroyed)
