"""Finding a supplier's own offer: per-object authorization for every supplier route on an offer."""

from __future__ import annotations

from sqlalchemy.orm import Session

from infomediary.offers.errors import OfferNotFound
from infomediary.offers.models import OfferRow


def own_offer(session: Session, supplier_id: str, offer_id: str, *, lock: bool = False) -> OfferRow:
    """The supplier's offer (locked when `lock`, so budget moves on it run one at a time)."""
    row = session.get(OfferRow, offer_id, with_for_update=lock or None)
    # Another supplier's offer is indistinguishable from a missing one.
    if row is None or row.supplier_id != supplier_id:
        raise OfferNotFound()
    return row
