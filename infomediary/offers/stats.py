"""What a supplier may learn of an offer's reach: counts, each withheld (None) below k.

A count below k could point at a few people (an audience narrow enough to single someone out); withholding
it, rather than rounding it, keeps the rule simple to audit. No ids or pseudonyms are ever part of stats.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from infomediary.offers.models import OfferDeliveryRow


@dataclass(frozen=True)
class OfferStats:
    delivered: int | None
    viewed: int | None
    accepted: int | None
    minimum_cohort: int


def thresholded(count: int, k: int) -> int | None:
    return count if count >= k else None


def stats_of(session: Session, offer_id: str, k: int) -> OfferStats:
    d = OfferDeliveryRow
    delivered, viewed, accepted = session.execute(
        select(func.count(), func.count(d.viewed_at), func.count(d.accepted_at)).where(d.offer_id == offer_id)
    ).one()
    return OfferStats(
        delivered=thresholded(int(delivered), k),
        viewed=thresholded(int(viewed), k),
        accepted=thresholded(int(accepted), k),
        minimum_cohort=k,
    )


def stats_many(session: Session, offer_ids: list[str], k: int) -> dict[str, OfferStats]:
    """The stats of several offers in one grouped query (a page of a supplier's offers)."""
    d = OfferDeliveryRow
    found = {
        offer_id: OfferStats(thresholded(int(n), k), thresholded(int(v), k), thresholded(int(a), k), k)
        for offer_id, n, v, a in session.execute(
            select(d.offer_id, func.count(), func.count(d.viewed_at), func.count(d.accepted_at))
            .where(d.offer_id.in_(offer_ids))
            .group_by(d.offer_id)
        )
    }
    empty = OfferStats(thresholded(0, k), thresholded(0, k), thresholded(0, k), k)
    return {offer_id: found.get(offer_id, empty) for offer_id in offer_ids}
