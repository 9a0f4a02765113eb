"""Plain facts about an offer row that several parts of the offers domain decide on."""

from __future__ import annotations

from datetime import datetime

from consent.vocabulary import Category
from infomediary.offers.models import OfferRow


def categories(row: OfferRow) -> frozenset[Category]:
    """The categories the offer's predicate reads: the consent every delivery is gated on."""
    return frozenset(Category(c) for c in row.categories.split(","))


def exhausted(offer: OfferRow) -> bool:
    """The budget can no longer pay the larger reward: the offer stops being shown to new takers."""
    return offer.spent + max(offer.reward_per_view, offer.reward_per_acceptance) > offer.budget_cap


def is_open(offer: OfferRow, now: datetime) -> bool:
    """Not expired, withdrawn or refunded: the offer may still be shown and pay rewards."""
    return offer.expires_at > now and offer.withdrawn_at is None and offer.refunded_at is None
