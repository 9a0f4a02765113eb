"""The customer's per-supplier off switch for personalisation, kept as consent records (so it is receipted,
logged and obeyed by every decision, including training).

Off: every personalisation grant naming this supplier is withdrawn and personalisation by it is refused
for all categories. On: personalisation by it is granted for all categories (category-specific refusals
the customer recorded still win, as specific beats wildcard).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from consent.records import ConsentState
from infomediary.consents import repository, service
from infomediary.database import WriteSession
from infomediary.recommendations import history
from infomediary.runtime import Runtime


def switch(
    session: WriteSession,
    runtime: Runtime,
    customer_id: str,
    supplier_id: str,
    *,
    enabled: bool,
    on_leaving: service.OnLeaving,
) -> bool:
    """Turn personalisation by the supplier on or off; returns whether it is now permitted (preview)."""
    if enabled:
        service.answer(
            session, runtime, customer_id, state=ConsentState.GIVEN, supplier_id=supplier_id,
            purpose=history.PURPOSE, categories=[None], on_leaving=on_leaving,
        )  # fmt: skip
    else:
        rows = repository.record_rows(session, customer_id, supplier_id=supplier_id, purpose=history.PURPOSE)
        for row in rows:
            if row.supplier_id == supplier_id and row.state == ConsentState.GIVEN.value:
                service.withdraw(session, runtime, customer_id, row.id, on_leaving=on_leaving)
        wildcard = repository.find_scope(session, customer_id, supplier_id, history.PURPOSE, None)
        if wildcard is None:
            service.answer(
                session, runtime, customer_id, state=ConsentState.REFUSED, supplier_id=supplier_id,
                purpose=history.PURPOSE, categories=[None], on_leaving=on_leaving,
            )  # fmt: skip
    return enabled_for(session, runtime, customer_id, supplier_id)


def enabled_for(session: Session, runtime: Runtime, customer_id: str, supplier_id: str) -> bool:
    decisions = history.preview(session, runtime, supplier_id, customer_id, history.INTERACTION_CATEGORIES)
    return any(d.permitted for d in decisions.values())
