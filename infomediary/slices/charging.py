"""The seam between slices and the rewards ledger (branch `ledger`), which credits each included customer.

Until the ledger merges, a free slice charges nothing and a paid one is refused: releasing data that a
customer priced without paying them would break their terms.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from infomediary.slices.errors import PaidSlicesNeedLedger


def charge_for_release(
    session: Session, *, supplier_id: str, customer_ids: Sequence[str], price_per_customer: int
) -> None:
    """Debit the supplier and credit each included customer `price_per_customer`, in the caller's transaction.

    TODO(ledger): post one transfer per customer through the ledger service once it is merged.
    """
    if price_per_customer == 0:
        return
    raise PaidSlicesNeedLedger(
        "paid slices need the rewards ledger; ask again with max_price_per_customer 0",
        price_per_customer=price_per_customer,
        customers=len(customer_ids),
    )
