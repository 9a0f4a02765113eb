"""A consumer registered: the account, its data key, the address sealed in the vault, the log entry."""

from __future__ import annotations

from infomediary.customers import service as customers
from infomediary.database import WriteSession
from infomediary.flows import profile_changed
from infomediary.profiles import datakeys
from infomediary.runtime import Runtime


def register(session: WriteSession, runtime: Runtime, *, email: str, password: str) -> customers.AccountView:
    account = customers.open_account(session, runtime, email=email, password=password)
    # The readable address lives only in the vault, under the customer's own new data key.
    [cipher] = datakeys.create(session, runtime, [account.subject_id])
    profile_changed.apply_changes(
        session, runtime, account.subject_id, {"email": email}, actor="registration", cipher=cipher
    )
    customers.log_registration(session, runtime, account.subject_id)
    return account
