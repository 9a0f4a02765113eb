"""The customer changes her email address, which is her login: the new address confirms by its mailed link,
and only then do the login and the profile's readable address move to it, together.

Until then she signs in with the old address and her profile shows it: the two never disagree. The new
address waits sealed under her own data key next to the link's token (`customers.email_change`), so it is
no plaintext at rest and is unreadable once she is erased.
"""

from __future__ import annotations

from datetime import datetime

from infomediary.customers import email_change
from infomediary.customers import service as customers
from infomediary.database import WriteSession, utcnow
from infomediary.profiles import datakeys
from infomediary.profiles import service as profiles
from infomediary.profiles.datakeys import CustomerCipher
from infomediary.runtime import Runtime

# The sealed address is bound to this name (as a profile value is to `profile.<key>`): it opens as nothing
# else, and nothing else opens as it.
PENDING_AAD = "account.pending-email"
PENDING_VERSION = 1


def ask(
    session: WriteSession,
    runtime: Runtime,
    customer_id: str,
    new_email: str,
    *,
    cipher: CustomerCipher | None = None,
    now: datetime | None = None,
) -> bool:
    """Ask to move her login and readable address to `new_email`: True when a confirmation by mail is now
    awaited (the same whether or not the address is free), False when it already is her login (perhaps
    written differently), which the caller may then simply store."""
    if email_change.is_her_login(session, runtime, customer_id, new_email):
        return False
    cipher = cipher or datakeys.cipher_for(session, runtime, customer_id)
    current = profiles.values_of(session, runtime, [customer_id], ["email"]).get(customer_id, {}).get("email")
    email_change.request(
        session,
        runtime,
        customer_id,
        current_email=current,
        new_email=new_email,
        sealed_address=cipher.seal(PENDING_AAD, new_email.encode(), PENDING_VERSION),
        now=now,
    )
    return True


def confirm(
    session: WriteSession,
    runtime: Runtime,
    token: str,
    *,
    password: str | None,
    code: str | None,
    client_address: str,
    now: datetime | None = None,
) -> None:
    """Follow the link with her current password (and a code, with two-step sign-in on): her login and
    readable address are the new one from now on. `LinkInvalid` when the link is used, expired or unknown;
    `ReauthenticationFailed` / `LoginThrottled` as for erasure; `NewAddressTaken` when an account took the
    address meanwhile. In every case nothing changes (the caller rolls back, which keeps the token).

    The password is asked here because the link only proves the new mailbox: whoever holds a stolen session
    could otherwise move the login to a mailbox of theirs and then reset the password from it.
    """
    now = now or utcnow()
    confirmed = email_change.redeem(session, token, now=now)
    customers.reauthenticate(
        session,
        runtime,
        confirmed.customer_id,
        password=password,
        code=code,
        client_address=client_address,
        now=now,
    )
    cipher = datakeys.cipher_for(session, runtime, confirmed.customer_id)
    new_email = cipher.open(PENDING_AAD, confirmed.sealed_address, PENDING_VERSION).decode()
    # The address is in no audience-index dimension: storing it needs no reindex (`profile_changed`).
    profiles.apply_changes(
        session,
        runtime,
        confirmed.customer_id,
        {"email": new_email},
        actor="customer",
        now=now,
        cipher=cipher,
    )
    # Last: the login lives outside the database transaction, so it moves only once the rest is done.
    email_change.move_login(session, runtime, confirmed.customer_id, new_email, now=now)
