"""The customer erased their account: out of every audience count, then every row of theirs, then the keys.

The order is `profiles.erasure`'s: everything in the database is deleted and flushed in the caller's
transaction before the erasure key is destroyed. Rows of other tables that reference the customer go with
the account row (foreign keys cascade); the ones counted on the receipt are deleted here by name.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from infomediary.audiences import index as audience_index
from infomediary.database import utcnow
from infomediary.profiles import erasure
from infomediary.recommendations import exclusions
from infomediary.runtime import Runtime


def erase_account(
    session: Session, runtime: Runtime, customer_id: str, now: datetime | None = None
) -> erasure.ErasureResult:
    now = now or utcnow()
    erasure.require_account(session, customer_id)
    # Out of the index, and the cached answers that counted them retired.
    audience_index.remove(session, customer_id)
    # Sealed under the customer's key, but erasure leaves nothing of the customer behind, ciphertext included.
    excluded = exclusions.erase(session, customer_id)
    return erasure.erase(
        session, runtime, customer_id, now, deleted_elsewhere={"recommendation_exclusions": excluded}
    )
