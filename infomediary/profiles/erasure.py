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
from sqlalchemy.orm import Session

from infomediary.customers import repository as customers
from infomediary.customers.errors import InvalidSession
from infomediary.database import utcnow
from infomediary.ids import new_id
from infomediary.policylog import kinds
from infomediary.policylog.kinds import format_at
from infomediary.policylog.service import append as log_append
from infomediary.policylog.service import log_pseudonym
from infomediary.profiles import repository
from infomediary.runtime import Runtime

RECEIPT_TYPE = "erasure-receipt+jwt"


@dataclass(frozen=True)
class ErasureResult:
    receipt: str
    customer_id: str
    erased_at: datetime
    rows: dict[str, int]
    erasure_key_destroyed: bool


def require_account(session: Session, customer_id: str) -> None:
    """An account already erased (a second request racing the first) is refused before anything changes."""
    if customers.get(session, customer_id) is None:
        raise InvalidSession()


def erase(
    session: Session,
    runtime: Runtime,
    customer_id: str,
    now: datetime | None = None,
    *,
    deleted_elsewhere: Mapping[str, int] | None = None,
) -> ErasureResult:
    """Delete the vault and the account, log it, destroy the keys and sign the receipt.

    `deleted_elsewhere` counts the customer's rows other domains deleted first in this transaction
    (`flows.account_erased`): the receipt names them too.
    """
    now = now or utcnow()
    require_account(session, customer_id)
    rows = {**(deleted_elsewhere or {}), **repository.delete_customer_rows(session, customer_id)}
    rows["consumer_sessions"] = customers.delete(session, customer_id)
    rows["customers"] = 1
    session.flush()
    # Logged in the same transaction, under the log pseudonym: the log keeps that this account was erased,
    # and nothing that identifies whose it was once the keys are gone.
    log_append(
        session,
        {"kind": kinds.ACCOUNT_ERASED, "at": format_at(now), "subject": log_pseudonym(runtime, customer_id)},
    )
    destroyed = runtime.vault.shred(customer_id)
    claims: dict[str, Any] = {
        "iss": runtime.settings.issuer,
        "sub": customer_id,
        "iat": int(now.timestamp()),
        "jti": new_id("erx"),
        "erasure": {
            "account": customer_id,
            "erased_at": now.isoformat().replace("+00:00", "Z"),
            "destroyed": {"data_key": rows["customer_keys"] > 0, "erasure_key": destroyed},
            "rows_deleted": rows,
        },
    }
    key = runtime.keys.current_signing_key()
    header = {"alg": "ES256", "kid": key.kid, "typ": RECEIPT_TYPE}
    receipt = jwt.encode(header, claims, runtime.keys.current_signing_jwk(), algorithms=["ES256"])
    return ErasureResult(
        receipt=receipt, customer_id=customer_id, erased_at=now, rows=rows, erasure_key_destroyed=destroyed
    )
