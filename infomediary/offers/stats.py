"""What a supplier may learn of an offer's reach: noisy counts on a fixed schedule, withheld (None) below k.

An offer's delivered, viewed and accepted figures are counts over customers, so they are released like an
audience count: OpenDP discrete Laplace noise (`audiences.noise`) of `offer_epsilon` per release, split over
the three figures (one customer moves each by at most one), and k applied to the noisy figure (suppressing on
the true one would leak it near the threshold). Every release goes through `release`, the one function that
knows the offer's population (its delivered customers).

Releases follow a fixed schedule, not the figures: after the first (made, and paid, at sending) a fresh draw
is due once `offer_stats_interval_seconds` have passed since the last one, is made when the offer is next
read, and is charged to the supplier's epsilon budget; reads in between serve the stored draw and charge
nothing, so re-reading cannot average the noise away. Why a schedule rather than "redraw on change": were a
draw made (and charged) only when a true figure changed, the charge on the next read, or merely whether the
figures moved, would tell the supplier whether the one customer it is watching has viewed the offer.
Neither the timing nor the cost of a draw, nor the refusal of one, depends on what customers did: a due
draw the budget cannot cover is skipped and the last release stays. A closed offer's figures can no longer
change, so once a draw has been made after it closed, that draw is final. No ids or pseudonyms are ever
part of stats.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent.vocabulary import ReleaseKind
from infomediary.audiences import accounting, budget, noise
from infomediary.audiences.noise import MILLI
from infomediary.database import WriteSession
from infomediary.offers.models import OfferDeliveryRow, OfferRow, OfferStatsRow
from infomediary.policylog import kinds
from infomediary.policylog.service import append as log_append
from infomediary.runtime import Runtime
from infomediary.settings import Settings

FIGURES = 3


@dataclass(frozen=True)
class OfferStats:
    delivered: int | None
    viewed: int | None
    accepted: int | None
    minimum_cohort: int


@dataclass(frozen=True)
class Member:
    """One delivered customer of an offer, as its statistics count them. Never leaves the broker."""

    customer_id: str
    viewed: bool
    accepted: bool


def thresholded(count: int, k: int) -> int | None:
    return count if count >= k else None


def population(session: Session, offer_id: str) -> list[Member]:
    """The offer's delivered customers: whom its statistics are about."""
    d = OfferDeliveryRow
    rows = session.execute(
        select(d.customer_id, d.viewed_at.is_not(None), d.accepted_at.is_not(None)).where(
            d.offer_id == offer_id
        )
    ).all()
    return [Member(customer_id, bool(viewed), bool(accepted)) for customer_id, viewed, accepted in rows]


def true_figures(members: list[Member]) -> tuple[int, int, int]:
    """The exact figures. They never leave the broker: only a noisy draw of them is released."""
    return len(members), sum(m.viewed for m in members), sum(m.accepted for m in members)


def draw(figures: tuple[int, int, int], epsilon_milli: int) -> tuple[int, int, int]:
    """Each figure with discrete Laplace noise; the three together spend at most `epsilon_milli`."""
    share = max(1, epsilon_milli // FIGURES)
    noisy = [noise.noisy_count(f, share) for f in figures]
    return noisy[0], noisy[1], noisy[2]


def release(
    session: WriteSession,
    settings: Settings,
    offer: OfferRow,
    row: OfferStatsRow | None,
    epsilon_milli: int,
    now: datetime,
) -> OfferStatsRow:
    """Draw the offer's figures afresh over its population and store the draw: every differentially
    private release of offer statistics goes through here, already paid for by the caller.

    The population is the delivered customers the individual privacy filter admits (`audiences.accounting`):
    each is charged the draw's epsilon on her own account, and one at her cap (or no longer in the index,
    having restricted processing) is not counted.
    """
    delivered = population(session, offer.id)
    admitted = accounting.admit_customers(
        session,
        settings,
        supplier_id=offer.supplier_id,
        kind=accounting.OFFER_STATISTICS,
        epsilon_milli=epsilon_milli,
        customer_ids=[m.customer_id for m in delivered],
        now=now,
    )
    counted = [m for m in delivered if m.customer_id in admitted]
    noisy = draw(true_figures(counted), epsilon_milli)
    if row is None:
        row = OfferStatsRow(offer_id=offer.id)
        session.add(row)
    row.noisy_delivered, row.noisy_viewed, row.noisy_accepted = noisy
    row.epsilon_milli = epsilon_milli
    row.drawn_at = now
    session.flush()
    return row


def log_release(
    session: WriteSession,
    *,
    supplier_id: str,
    purpose: str,
    categories: str,
    offer_id: str,
    told: int,
    epsilon_milli: int,
    kind: ReleaseKind,
    refused: str | None = None,
) -> None:
    shown = sorted(categories.split(","))
    details: dict[str, str] = {"offer_id": offer_id}
    if refused is not None:
        details["refused"] = refused
    log_append(
        session,
        {
            "kind": kinds.RELEASE,
            "supplier_id": supplier_id,
            "purpose": purpose,
            "categories": shown,
            "release": {
                "kind": kind.value,
                "categories": shown,
                "count": told,
                "epsilon_milli": epsilon_milli,
            },
            "details": details,
        },
    )


def _log(session: WriteSession, offer: OfferRow, told: int, epsilon_milli: int, kind: ReleaseKind) -> None:
    log_release(
        session,
        supplier_id=offer.supplier_id,
        purpose=offer.purpose,
        categories=offer.categories,
        offer_id=offer.id,
        told=told,
        epsilon_milli=epsilon_milli,
        kind=kind,
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


@dataclass(frozen=True)
class FirstRelease:
    stats: OfferStats
    # The noisy audience before any threshold: what sending checks against the minimum cohort.
    noisy_audience: int


def first_release(
    session: WriteSession, runtime: Runtime, offer: OfferRow, epsilon_milli: int, now: datetime
) -> FirstRelease:
    """The release made when the offer is sent, paid by the charge of its audience query.

    Logged as the offer's delivery, with the delivered figure the supplier was told (0 when withheld).
    """
    k = runtime.settings.offer_min_cohort
    row = release(session, runtime.settings, offer, None, epsilon_milli, now)
    stats = _as_stats(row, k)
    _log(session, offer, stats.delivered or 0, epsilon_milli, ReleaseKind.OFFER_DELIVERY)
    return FirstRelease(stats, row.noisy_delivered)


def closed_at(offer: OfferRow, now: datetime) -> datetime | None:
    """When the offer closed (withdrawn, or expired by `now`); None while it is open."""
    if offer.withdrawn_at is not None:
        return offer.withdrawn_at
    return offer.expires_at if offer.expires_at <= now else None


def due(row: OfferStatsRow | None, offer: OfferRow, now: datetime, settings: Settings) -> bool:
    """Whether a fresh draw is due: a matter of the clock and the offer's own life, never of its figures."""
    if row is None:
        return True
    closed = closed_at(offer, now)
    if closed is not None and row.drawn_at >= closed:
        return False
    return now - row.drawn_at >= timedelta(seconds=settings.offer_stats_interval_seconds)


def released(session: WriteSession, runtime: Runtime, offer: OfferRow, now: datetime) -> OfferStats:
    """The offer's stats as the supplier reads them: the stored draw, drawn afresh (and charged) when due."""
    settings = runtime.settings
    k = settings.offer_min_cohort
    # Locked: two concurrent reads of a due offer draw (and charge) once, and agree.
    row = session.get(OfferStatsRow, offer.id, with_for_update=True, populate_existing=True)
    if not due(row, offer, now, settings):
        return _as_stats(row, k)
    cost = round(settings.offer_epsilon * MILLI)
    if not budget.try_charge(session, offer.supplier_id, cost, now, settings):
        # Budget spent: the last release stays (or nothing, for an offer never released).
        return _as_stats(row, k)
    stats = _as_stats(release(session, settings, offer, row, cost, now), k)
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
