"""The facts business rules test, for one customer: only from the categories their consent permits."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from consent.vocabulary import Category
from infomediary.audiences.dimensions import INTERESTS
from infomediary.audiences.models import AudienceIndexRow
from infomediary.products.service import Listing
from infomediary.recommendations.training import SEGMENT_DIMENSIONS, segment_keys
from infomediary.rules.attributes import ATTRIBUTES
from infomediary.rules.evaluate import Fact

# Built once: read on every recommendation request (a select by key skips `Session.get`'s loader setup).
_INDEX_ROW = select(AudienceIndexRow).where(AudienceIndexRow.customer_id == bindparam("customer_id"))


def index_row(session: Session, customer_id: str) -> AudienceIndexRow | None:
    return session.scalars(_INDEX_ROW, {"customer_id": customer_id}).first()


def facts(
    row: AudienceIndexRow | None,
    permitted: Collection[Category],
    basket: Mapping[str, int],
    prices: Mapping[str, Listing],
) -> dict[str, Fact]:
    out: dict[str, Fact] = {}
    if row is not None:
        for key, attribute in ATTRIBUTES.items():
            if attribute.category not in permitted or attribute.numeric:
                continue
            if key == "interest":
                out[key] = frozenset(n for bit, n in enumerate(INTERESTS) if row.interests & (1 << bit))
            else:
                value = getattr(row, key, None)
                if value is not None:
                    out[key] = value
    if Category.ACTIVITY in permitted:
        out["basket_items"] = sum(basket.values())
        out["basket_value"] = sum(prices[i].price * q for i, q in basket.items() if i in prices)
    return out


def segments(row: AudienceIndexRow | None, permitted: Collection[Category]) -> list[str]:
    return [] if row is None else segment_keys(row, set(permitted))


SEGMENT_CATEGORIES = frozenset(ATTRIBUTES[d].category for d in SEGMENT_DIMENSIONS if d in ATTRIBUTES)
