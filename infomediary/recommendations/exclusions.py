"""The items a customer removed from what drives their recommendations at one supplier, sealed in the vault.

The list names items the customer interacted with, which is personal data: it is sealed under the
customer's data key, bound to the supplier, and erased with the account.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from infomediary.database import WriteSession, utcnow
from infomediary.profiles import datakeys
from infomediary.profiles.datakeys import CustomerCipher
from infomediary.recommendations.models import RecommendationExclusionRow
from infomediary.runtime import Runtime

SCHEMA_VERSION = 1
MAX_EXCLUSIONS = 500


def _aad(supplier_id: str) -> str:
    return f"recommendations.exclusions.{supplier_id}"


_r = RecommendationExclusionRow
# Built once, plain columns: read on every recommendation request.
_READ = select(_r.schema_version, _r.ciphertext).where(
    _r.customer_id == bindparam("customer_id"), _r.supplier_id == bindparam("supplier_id")
)


def read(
    session: Session,
    runtime: Runtime,
    customer_id: str,
    supplier_id: str,
    *,
    cipher: CustomerCipher | None = None,
) -> set[str]:
    row = session.execute(_READ, {"customer_id": customer_id, "supplier_id": supplier_id}).first()
    if row is None:
        return set()
    cipher = cipher or datakeys.cipher_for(session, runtime, customer_id)
    return set(json.loads(cipher.open(_aad(supplier_id), row.ciphertext, row.schema_version)))


def write(
    session: WriteSession, runtime: Runtime, customer_id: str, supplier_id: str, items: Iterable[str]
) -> set[str]:
    """Replace the list; an empty list removes the row."""
    wanted = sorted(set(items))
    row = session.get(RecommendationExclusionRow, (customer_id, supplier_id))
    if not wanted:
        if row is not None:
            session.delete(row)
            session.flush()
        return set()
    cipher = datakeys.cipher_for(session, runtime, customer_id)
    sealed = cipher.seal(_aad(supplier_id), json.dumps(wanted).encode(), SCHEMA_VERSION)
    if row is None:
        session.add(
            RecommendationExclusionRow(
                customer_id=customer_id,
                supplier_id=supplier_id,
                schema_version=SCHEMA_VERSION,
                ciphertext=sealed,
                updated_at=utcnow(),
            )
        )
    else:
        row.ciphertext, row.updated_at = sealed, utcnow()
    session.flush()
    return set(wanted)


def erase(session: WriteSession, customer_id: str) -> int:
    """Delete every list of the customer (erasure); returns how many rows went."""
    result = session.execute(
        delete(RecommendationExclusionRow).where(RecommendationExclusionRow.customer_id == customer_id)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
