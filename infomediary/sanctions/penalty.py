"""Penalties: an auditor makes a supplier pay each affected customer, in one ledger transaction.

The auditor names the affected customers by the supplier's own pseudonyms (the only names the supplier's
conduct gives them). The supplier is debited `amount` per customer, each customer credited `amount`, and
the sanction is written to the policy log, all in the caller's transaction. The request's Idempotency-Key
makes a retried penalty return the first one instead of paying twice. A penalty is not a strike: an auditor
who wants both records both.
"""

from __future__ import annotations

from collections.abc import Sequence

from infomediary.database import WriteSession
from infomediary.errors import DomainError
from infomediary.ids import new_id
from infomediary.ledger import service as ledger
from infomediary.ledger.models import TransactionKind
from infomediary.pseudonyms import service as pseudonyms
from infomediary.runtime import Runtime
from infomediary.sanctions import repository
from infomediary.sanctions.models import SanctionKind
from infomediary.sanctions.service import Recorded, record_sanction
from infomediary.suppliers.errors import SupplierNotFound
from infomediary.suppliers.models import Supplier


class AffectedCustomerUnknown(DomainError):
    status = 422
    slug = "affected-customer-unknown"
    title = "An affected customer is not known to this supplier by that pseudonym"


def impose(
    session: WriteSession,
    runtime: Runtime,
    *,
    auditor_id: str,
    supplier_id: str,
    reason: str,
    amount_per_customer: int,
    affected: Sequence[str],
    idempotency_key: str,
) -> Recorded:
    if session.get(Supplier, supplier_id) is None:
        raise SupplierNotFound(f"no supplier with id {supplier_id!r}")
    customers: list[str] = []
    for value in dict.fromkeys(affected):
        try:
            customers.append(pseudonyms.resolve(session, runtime, supplier_id, value))
        except pseudonyms.PseudonymUnknown as exc:
            raise AffectedCustomerUnknown(pseudonym=value) from exc
    sanction_id = new_id("snc")
    posted = ledger.post(
        session,
        kind=TransactionKind.PENALTY,
        postings=[
            (ledger.supplier(supplier_id), -amount_per_customer * len(customers)),
            *((ledger.customer(c), amount_per_customer) for c in customers),
        ],
        idempotency_key=idempotency_key,
        initiator=f"auditor:{auditor_id}",
        credit_line=runtime.settings.supplier_credit_line,
        reference=sanction_id,
        memo=reason,
    )
    if posted.replayed:
        first = repository.find(session, posted.reference or "")
        if first is None:  # pragma: no cover - a penalty transaction always references its sanction
            raise RuntimeError("penalty transaction without its sanction")
        return Recorded(first.id, first.supplier_id, first.leaf_index, first.created_at)
    return record_sanction(
        session,
        runtime.settings,
        auditor_id=auditor_id,
        supplier_id=supplier_id,
        kind=SanctionKind.PENALTY,
        reason=reason,
        sanction_id=sanction_id,
        details={
            "amount_per_customer": amount_per_customer,
            "customers": len(customers),
            "transaction_id": posted.transaction_id,
        },
    )
