"""The right to erasure: destroy the customer's keys, delete every row, and sign a receipt they can keep.

Order matters. The rows are deleted and flushed in the request's transaction, then the erasure key is
destroyed (outside the database, so it cannot join the transaction), then the transaction commits. If the
commit failed after the key was destroyed, the leftover rows would already be unreadable: erring towards
erasure is what the customer asked for. The receipt is a compact JWS (ES256) verifiable against the service's
JWKS; it names the account, the time and what was destroyed, never a profile value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from joserfc import jwt

from infomediary.database import WriteSession
from infomediary.ids import new_id
from infomediary.policylog import kinds
from infomediary.policylog.kinds import format_at
from infomediary.policylog.service import append as log_append
from infomediary.policylog.service import log_pseudonym
from infomediary.profiles import datakeys, repository
from infomediary.runtime import Runtime

# The steps, in this order and across every domain that holds something of the customer, are
# `flows.account_erased`; here are the vault's own rows, the log entry and the receipt.
RECEIPT_TYPE = "erasure-receipt+jwt"


@dataclass(frozen=True)
class ErasureResult:
    receipt: str
    customer_id: str
    erased_at: datetime
    rows: dict[str, int]
    erasure_key_destroyed: bool


def delete_vault(session: WriteSession, customer_id: str) -> dict[str, int]:
    """Delete every vault row of the customer (fields, history, activity, restriction, data key); counts."""
    datakeys.forget(session, customer_id)
    return repository.delete_customer_rows(session, customer_id)


def log_erasure(session: WriteSession, runtime: Runtime, customer_id: str, now: datetime) -> None:
    """Logged in the erasure's transaction, under the log pseudonym: the log keeps that this account was
    erased, and nothing that identifies whose it was once the keys are gone."""
    log_append(
        session,
        {"kind": kinds.ACCOUNT_ERASED, "at": format_at(now), "subject": log_pseudonym(runtime, customer_id)},
    )


def receipt(
    runtime: Runtime, customer_id: str, now: datetime, rows: Mapping[str, int], *, erasure_key_destroyed: bool
) -> ErasureResult:
    """The signed receipt: the account, the time, the keys destroyed and the rows deleted of each kind."""
    claims: dict[str, Any] = {
        "iss": runtime.settings.issuer,
        "sub": customer_id,
        "iat": int(now.timestamp()),
        "jti": new_id("erx"),
        "erasure": {
            "account": customer_id,
            "erased_at": now.isoformat().replace("+00:00", "Z"),
            "destroyed": {"data_key": rows["customer_keys"] > 0, "erasure_key": erasure_key_destroyed},
            "rows_deleted": dict(rows),
        },
    }
    key = runtime.keys.current_signing_key()
    header = {"alg": "ES256", "kid": key.kid, "typ": RECEIPT_TYPE}
    token = jwt.encode(header, claims, runtime.keys.current_signing_jwk(), algorithms=["ES256"])
    return ErasureResult(
        receipt=token,
        customer_id=customer_id,
        erased_at=now,
        rows=dict(rows),
        erasure_key_destroyed=erasure_key_destroyed,
    )
