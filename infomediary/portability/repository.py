"""The export's reads that no domain service offers: every consent event with its receipt, and every supplier
request whatever its status. Reads only, each scoped to one customer's rows, in keyset pages."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from infomediary.consents.models import ConsentEventRow, ConsentRecordRow, SupplierRequestRow
from infomediary.suppliers.models import Supplier


def consent_events_page(
    session: Session,
    customer_id: str,
    record_ids: Sequence[str],
    *,
    after: tuple[str, int] | None,
    limit: int,
) -> Sequence[ConsentEventRow]:
    """Up to `limit` events of these records of the customer's after (record id, event id) `after`: each
    record's in the order they happened, with the signed receipt each was issued (the consent service keeps
    only the latest within reach). Keyset pages: a record with any number of events is read page by page."""
    if not record_ids:
        return []
    query = (
        select(ConsentEventRow)
        .join(ConsentRecordRow, ConsentRecordRow.id == ConsentEventRow.record_id)
        .where(ConsentRecordRow.customer_id == customer_id, ConsentEventRow.record_id.in_(record_ids))
    )
    if after is not None:
        record_id, event_id = after
        query = query.where(
            or_(
                ConsentEventRow.record_id > record_id,
                and_(ConsentEventRow.record_id == record_id, ConsentEventRow.id > event_id),
            )
        )
    return session.scalars(query.order_by(ConsentEventRow.record_id, ConsentEventRow.id).limit(limit)).all()


def requests_page(
    session: Session, customer_id: str, *, after: str, limit: int
) -> Sequence[tuple[SupplierRequestRow, str]]:
    """The customer's supplier requests after id `after`, answered or not, with the supplier's name."""
    rows = session.execute(
        select(SupplierRequestRow, Supplier.name)
        .join(Supplier, Supplier.id == SupplierRequestRow.supplier_id)
        .where(SupplierRequestRow.customer_id == customer_id, SupplierRequestRow.id > after)
        .order_by(SupplierRequestRow.id)
        .limit(limit)
    ).all()
    return [(row, name) for row, name in rows]
