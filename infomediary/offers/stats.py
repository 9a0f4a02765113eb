"""What a supplier may learn of an offer's reach: noisy counts, stable per offer, withheld (None) below k.

An offer's delivered, viewed and accepted figures are counts over customers, so they are released like an
audience count: OpenDP discrete Laplace noise (`audiences.noise`) of `offer_epsilon` per release, split over
the three figures (one customer moves each by at most one), each release charged to the supplier's epsilon
budget, and k applied to the noisy figure (suppressing on the true one would leak it near the threshold).

The release is stable: the stored draw is served until a true figure changes, so reading again and again
cannot average the noise away. A change draws afresh only if the budget covers it; otherwise the last
release stays, so the budget bounds what a supplier learns from its offers' statistics over a period. No
ids or pseudonyms are ever part of stats.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from consent.vocabulary import ReleaseKind
from infomediary.audiences import budget, noise
from infomediary.audiences.noise import MILLI
from infomediary.database import WriteSession
from infomediary.offers.models import OfferDeliveryRow, OfferRow, OfferStatsRow
from infomediary.policylog import kinds
from infomediary.policylog.service import append as log_append
from infomediary.runtime import Runtime

FIGURES = 3


@dataclass(frozen=True)
class OfferStats:
    delivered: int | None
    viewed: int | None
    accepted: int | None
    minimum_cohort: int


def thresholded(count: int, k: int) -> int | None:
    return count if count >= k else None


def true_figures(session: Session, offer_id: str) -> tuple[int, int, int]:
    """The exact figures. They never leave the broker: only a noisy draw of them is released."""
    d = OfferDeliveryRow
    delivered, viewed, accepted = session.execute(
        select(func.count(), func.count(d.viewed_at), func.count(d.accepted_at)).where(d.offer_id == offer_id)
    ).one()
    return int(delivered), int(viewed), int(accepted)


def draw(figures: tuple[int, int, int], epsilon_milli: int) -> tuple[int, int, int]:
    """Each figure with discrete Laplace noise; the three together spend at most `epsilon_milli`."""
    share = max(1, epsilon_milli // FIGURES)
    noisy = [noise.noisy_count(f, share) for f in figures]
    return noisy[0], noisy[1], noisy[2]


def _store(
    session: WriteSession, offer: OfferRow, row: OfferStatsRow | None, epsilon_milli: int, now: datetime
) -> OfferStatsRow:
    true = true_figures(session, offer.id)
    noisy = draw(true, epsilon_milli)
    if row is None:
        row = OfferStatsRow(offer_id=offer.id)
        session.add(row)
    row.true_delivered, row.true_viewed, row.true_accepted = true
    row.noisy_delivered, row.noisy_viewed, row.noisy_accepted = noisy
    row.epsilon_milli = epsilon_milli
    row.drawn_at = now
    session.flush()
    return row


def _log(session: WriteSession, offer: OfferRow, told: int, epsilon_milli: int, kind: ReleaseKind) -> None:
    shown = sorted(offer.categories.split(","))
    log_append(
        session,
        {
            "kind": kinds.RELEASE,
            "supplier_id": offer.supplier_id,
            "purpose": offer.purpose,
            "categories": shown,
            "release": {
                "kind": kind.value,
                "categories": shown,
                "count": told,
                "epsilon_milli": epsilon_milli,
            },
            "details": {"offer_id": offer.id},
        },
    )


def _as_stats(row: OfferStatsRow | None, k: int) -> OfferStats:
    if row is None:
        return OfferStats(None, None, None, k)
    return OfferStats(
        delivered=thresholded(row.noisy_delivered, k),
        viewed=thresholded(row.noisy_viewed, k),
        accepted=thresholded(row.noisy_accepted, k),
        minimum_cohort=k,
    )


def first_release(
    session: WriteSession, runtime: Runtime, offer: OfferRow, epsilon_milli: int, now: datetime
) -> OfferStats:
    """The release made when the offer is sent, paid by the charge of its audience query.

    Logged as the offer's delivery, with the delivered figure the supplier was told (0 when withheld).
    """
    k = runtime.settings.offer_min_cohort
    stats = _as_stats(_store(session, offer, None, epsilon_milli, now), k)
    _log(session, offer, stats.delivered or 0, epsilon_milli, ReleaseKind.OFFER_DELIVERY)
    return stats


def released(session: WriteSession, runtime: Runtime, offer: OfferRow, now: datetime) -> OfferStats:
    """The offer's stats as the supplier reads them: the stored draw, drawn afresh only on a change."""
    settings = runtime.settings
    k = settings.offer_min_cohort
    # Locked: two concurrent reads after a change draw (and charge) once, and agree.
    row = session.get(OfferStatsRow, offer.id, with_for_update=True, populate_existing=True)
    true = true_figures(session, offer.id)
    if row is not None and true == (row.true_delivered, row.true_viewed, row.true_accepted):
        return _as_stats(row, k)
    cost = round(settings.offer_epsilon * MILLI)
    if not budget.try_charge(session, offer.supplier_id, cost, now, settings):
        # Budget spent: the last release stays (or nothing, for an offer never released).
        return _as_stats(row, k)
    stats = _as_stats(_store(session, offer, row, cost, now), k)
    _log(session, offer, stats.delivered or 0, cost, ReleaseKind.AGGREGATE_COUNT)
    return stats


def stored_many(session: Session, offer_ids: list[str], k: int) -> dict[str, OfferStats]:
    """The last released (noisy) stats of several offers in one query, for a page of a supplier's offers.

    Listing draws nothing and charges nothing: a fresh draw happens only when one offer is read
    (`released`), so a list shows what the supplier was last told.
    """
    rows = session.scalars(select(OfferStatsRow).where(OfferStatsRow.offer_id.in_(offer_ids)))
    found = {row.offer_id: row for row in rows}
    return {offer_id: _as_stats(found.get(offer_id), k) for offer_id in offer_ids}
