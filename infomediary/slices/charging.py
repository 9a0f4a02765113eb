"""Paying for a slice: the supplier is debited and each included customer credited, in one ledger transaction.

A customer's consent can carry a price; the decision already left out everyone who asks more than the offer,
so everyone released is paid the offered price. The payment is part of the release's transaction: a supplier
that cannot pay (credit line) gets nothing released, and a repeated Idempotency-Key never pays twice.
"""

from __future__ import annotations

from collections.abc import Sequence

from infomediary.database import WriteSession
from infomediary.ledger import service as ledger
from infomediary.ledger.errors import IdempotencyKeyRequired
from infomediary.ledger.models import TransactionKind


def charge_for_release(
    session: WriteSession,
    *,
    supplier_id: str,
    customer_ids: Sequence[str],
    price_per_customer: int,
    idempotency_key: str | None,
    credit_line: int,
) -> str | None:
    """Post the payment in the caller's transaction; returns the ledger transaction id (None when free)."""
    if price_per_customer == 0 or not customer_ids:
        return None
    if not idempotency_key:
        raise IdempotencyKeyRequired("a paid slice moves credits: send an Idempotency-Key header")
    posted = ledger.post(
        session,
        kind=TransactionKind.DATA_RELEASE,
        postings=[
            (ledger.supplier(supplier_id), -price_per_customer * len(customer_ids)),
            *((ledger.customer(customer_id), price_per_customer) for customer_id in customer_ids),
        ],
        idempotency_key=idempotency_key,
        initiator=f"supplier:{supplier_id}",
        credit_line=credit_line,
        memo="pseudonymous slice",
    )
    return posted.transaction_id
