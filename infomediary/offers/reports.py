"""Customers' reports of unwanted offers, counted so that a few customers cannot sink a supplier.

- One report per customer and offer (a reported offer leaves the inbox; reporting it again is a 404).
- A customer may report at most `report_rate_limit` offers per `report_rate_window_seconds`; beyond that
  the report is refused (429 with Retry-After) and changes nothing.
- A report is not a strike by itself. The supplier earns a strike for reports only when
  * one offer is reported by at least `offer_report_min_reporters` customers who are also at least
    `offer_report_share` of its deliveries (one strike per offer at most), or
  * at least `supplier_report_min_reporters` distinct customers reported any of its offers within
    `offer_report_window_seconds` (one strike per window at most).

With the defaults (10 reporters and 5 % of deliveries; 25 reporters a week) and suspension at five strikes,
no group of fewer than ten customers can cost a supplier a single strike, while an offer that annoys a
real share of its audience still does. Who reported stays with the broker: the strike names the supplier.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from infomediary.database import WriteSession, utcnow
from infomediary.offers.errors import ReportRateLimited
from infomediary.offers.models import DeliveryState, OfferDeliveryRow, OfferReportRow, OfferRow
from infomediary.offers.received import own
from infomediary.runtime import Runtime
from infomediary.sanctions import service as sanctions
from infomediary.sanctions.models import SanctionKind, SupplierSanction
from infomediary.settings import Settings
from infomediary.suppliers.models import Supplier

OFFER_REPORT_REASON = "offer reported as unwanted by a share of the customers it reached"
SUPPLIER_REPORT_REASON = "offers reported as unwanted by many distinct customers"


def _check_rate(session: Session, settings: Settings, customer_id: str, now: datetime) -> None:
    since = now - timedelta(seconds=settings.report_rate_window_seconds)
    recent, oldest = session.execute(
        select(func.count(), func.min(OfferReportRow.created_at)).where(
            OfferReportRow.customer_id == customer_id, OfferReportRow.created_at > since
        )
    ).one()
    if int(recent) >= settings.report_rate_limit and oldest is not None:
        # When the oldest report of the window ages out, one more fits.
        wait = (oldest + timedelta(seconds=settings.report_rate_window_seconds) - now).total_seconds()
        raise ReportRateLimited(retry_after=max(1, math.ceil(wait)))


def _offer_strike(session: WriteSession, settings: Settings, offer: OfferRow) -> None:
    """Strike once for this offer when enough of the customers it reached reported it."""
    if offer.report_strike:
        return
    reporters = session.scalar(
        select(func.count()).select_from(OfferReportRow).where(OfferReportRow.offer_id == offer.id)
    )
    deliveries = session.scalar(
        select(func.count()).select_from(OfferDeliveryRow).where(OfferDeliveryRow.offer_id == offer.id)
    )
    reporters, deliveries = int(reporters or 0), int(deliveries or 0)
    if (
        reporters >= settings.offer_report_min_reporters
        and reporters >= settings.offer_report_share * deliveries
    ):
        offer.report_strike = True
        session.flush()
        sanctions.record_strike(session, settings, supplier_id=offer.supplier_id, reason=OFFER_REPORT_REASON)


def _supplier_strike(session: WriteSession, settings: Settings, supplier_id: str, now: datetime) -> None:
    """Strike once per window when enough distinct customers reported the supplier's offers in it."""
    since = now - timedelta(seconds=settings.offer_report_window_seconds)
    reporters = session.scalar(
        select(func.count(func.distinct(OfferReportRow.customer_id))).where(
            OfferReportRow.supplier_id == supplier_id, OfferReportRow.created_at > since
        )
    )
    if int(reporters or 0) < settings.supplier_report_min_reporters:
        return
    struck = session.scalar(
        select(func.count())
        .select_from(SupplierSanction)
        .where(
            SupplierSanction.supplier_id == supplier_id,
            SupplierSanction.kind == SanctionKind.STRIKE.value,
            SupplierSanction.reason == SUPPLIER_REPORT_REASON,
            SupplierSanction.created_at > since,
        )
    )
    if not struck:
        sanctions.record_strike(session, settings, supplier_id=supplier_id, reason=SUPPLIER_REPORT_REASON)


def report(session: WriteSession, runtime: Runtime, customer_id: str, offer_id: str) -> None:
    """Report the offer as unwanted: it leaves the inbox, and counts towards a strike as described above."""
    now = utcnow()
    settings = runtime.settings
    offer, delivery, _ = own(session, customer_id, offer_id, now)
    _check_rate(session, settings, customer_id, now)
    # The supplier row's lock serialises its reports, so a threshold crossed by two at once strikes once.
    session.get(Supplier, offer.supplier_id, with_for_update=True)
    delivery.state = DeliveryState.REPORTED.value
    delivery.answered_at = now
    session.add(
        OfferReportRow(
            offer_id=offer.id, supplier_id=offer.supplier_id, customer_id=customer_id, created_at=now
        )
    )
    session.flush()
    _offer_strike(session, settings, offer)
    _supplier_strike(session, settings, offer.supplier_id, now)


def report_relayed_message(
    session: WriteSession, runtime: Runtime, *, customer_id: str, supplier_id: str, message_id: str
) -> bool:
    """Report a message the relay passed to her as unwanted: counted with the supplier's offer reports
    (same rate limit, same strike rule for distinct reporters). Once per message: False if it was already.

    A message has no audience share to weigh, so there is no per-message strike, only the supplier's."""
    now = utcnow()
    settings = runtime.settings
    # The supplier row's lock serialises its reports, as for offers, and two clicks of one link too.
    session.get(Supplier, supplier_id, with_for_update=True)
    if session.scalar(select(OfferReportRow.id).where(OfferReportRow.relayed_message_id == message_id)):
        return False
    _check_rate(session, settings, customer_id, now)
    session.add(
        OfferReportRow(
            relayed_message_id=message_id, supplier_id=supplier_id, customer_id=customer_id, created_at=now
        )
    )
    session.flush()
    _supplier_strike(session, settings, supplier_id, now)
    return True
