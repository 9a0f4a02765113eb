"""Offer statistics: a count below k is withheld, never rounded or shown; draws are due on a schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from infomediary.offers.models import OfferRow, OfferStatsRow
from infomediary.offers.stats import due, thresholded
from infomediary.settings import Settings


def test_counts_below_k_are_withheld() -> None:
    assert thresholded(0, 10) is None
    assert thresholded(9, 10) is None
    assert thresholded(10, 10) == 10
    assert thresholded(250, 10) == 250


START = datetime(2026, 1, 1, tzinfo=UTC)
INTERVAL = 600


def _offer(expires_in: int, withdrawn_in: int | None = None) -> OfferRow:
    withdrawn = None if withdrawn_in is None else START + timedelta(seconds=withdrawn_in)
    return OfferRow(expires_at=START + timedelta(seconds=expires_in), withdrawn_at=withdrawn)


def _drawn(at: int) -> OfferStatsRow:
    return OfferStatsRow(drawn_at=START + timedelta(seconds=at), noisy_delivered=0, noisy_viewed=0)


@given(drawn=st.integers(0, 10_000), later=st.integers(0, 10_000))
def test_an_open_offer_is_due_exactly_once_the_interval_has_passed(
    settings: Settings, drawn: int, later: int
) -> None:
    scheduled = settings.model_copy(update={"offer_stats_interval_seconds": INTERVAL})
    now = START + timedelta(seconds=drawn + later)
    assert due(_drawn(drawn), _offer(expires_in=100_000), now, scheduled) is (later >= INTERVAL)


@given(closed=st.integers(0, 5_000), drawn=st.integers(0, 10_000), later=st.integers(0, 10_000))
def test_a_closed_offer_is_drawn_once_more_after_it_closed_then_never(
    settings: Settings, closed: int, drawn: int, later: int
) -> None:
    scheduled = settings.model_copy(update={"offer_stats_interval_seconds": INTERVAL})
    now = START + timedelta(seconds=drawn + later)
    for offer in (_offer(expires_in=closed), _offer(expires_in=100_000, withdrawn_in=closed)):
        expected = drawn < closed and later >= INTERVAL
        assert due(_drawn(drawn), offer, now, scheduled) is expected


def test_an_offer_never_released_is_due(settings: Settings) -> None:
    assert due(None, _offer(expires_in=0), START, settings)
