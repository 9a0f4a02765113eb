"""The allow-list of audience dimensions: each one's domain of values and the data category it derives from.

Only these dimensions can be indexed or queried. Every value is generalised (an age band, not a birth date;
a two-character postal prefix, not a postal code; a band of 1-5, not an amount), so an index row says
nothing a supplier could use to single out a person, and counting needs no decryption.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Final

from consent.vocabulary import Category

AGE_BANDS: Final = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
GENDERS: Final = ("female", "male", "non_binary", "other", "prefer_not_to_say")
# The fixed interest vocabulary; free-text interests outside it are not indexed. The position of an interest
# is its bit in `audience_index.interests`, so new interests may only be appended.
INTERESTS: Final = (
    "cooking", "cycling", "running", "hiking", "photography", "gardening", "gaming", "reading", "travel",
    "music", "films", "football", "yoga", "fashion", "technology", "home improvement", "wine", "pets",
    "parenting", "investing", "art", "theatre", "cars", "camping", "baking",
)  # fmt: skip
BANDS: Final = (1, 2, 3, 4, 5)
POSTAL_PREFIX_LENGTH = 2


@dataclass(frozen=True)
class Dimension:
    """One allow-listed dimension: its key, the category it derives from and its finite domain."""

    key: str
    category: Category
    domain: tuple[str, ...] | tuple[int, ...] | None
    ordered: bool
    description: str

    def accepts(self, value: object) -> bool:
        if self.domain is None:
            # The postal prefix: an open but tightly shaped domain (two letters or digits).
            return (
                isinstance(value, str) and len(value) == POSTAL_PREFIX_LENGTH and value.isascii()
                and value.isalnum() and value == value.upper()
            )  # fmt: skip
        if isinstance(value, bool):
            return False
        return value in self.domain


DIMENSIONS: Final[Mapping[str, Dimension]] = MappingProxyType(
    {
        d.key: d
        for d in (
            Dimension("age_band", Category.DEMOGRAPHICS, AGE_BANDS, True, "Age band in years."),
            Dimension("gender", Category.DEMOGRAPHICS, GENDERS, False, "Gender as the customer gave it."),
            Dimension(
                "postal_prefix",
                Category.CONTACT,
                None,
                False,
                f"The first {POSTAL_PREFIX_LENGTH} characters of the postal code, upper case.",
            ),
            Dimension("interest", Category.INTERESTS, INTERESTS, False, "One of the customer's interests."),
            Dimension(
                "rfm_recency_band",
                Category.PURCHASES,
                BANDS,
                True,
                "5 = bought within 30 days ... 1 = over a year ago.",
            ),
            Dimension(
                "rfm_frequency_band",
                Category.PURCHASES,
                BANDS,
                True,
                "Purchases in the last 365 days: 1 = one ... 5 = ten or more.",
            ),
            Dimension(
                "rfm_monetary_band",
                Category.PURCHASES,
                BANDS,
                True,
                "Spend in the last 365 days: 1 = under 20 ... 5 = 500 or more (major units).",
            ),
        )
    }
)


def age_band(birth: date, today: date) -> str | None:
    """The band of an age in whole years; None under 18 (minors are never counted)."""
    age = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
    if age < 18:
        return None
    for band, upper in zip(AGE_BANDS, (24, 34, 44, 54, 64), strict=False):
        if age <= upper:
            return band
    return AGE_BANDS[-1]


def postal_prefix(code: str) -> str | None:
    prefix = "".join(ch for ch in code if ch.isalnum())[:POSTAL_PREFIX_LENGTH].upper()
    return prefix if len(prefix) == POSTAL_PREFIX_LENGTH and prefix.isascii() else None


def interest_mask(interests: list[str]) -> int:
    mask = 0
    for item in interests:
        normalised = item.strip().lower()
        if normalised in INTERESTS:
            mask |= 1 << INTERESTS.index(normalised)
    return mask


def recency_band(days: int | None) -> int | None:
    if days is None:
        return None
    return _band(-days, (-365, -180, -90, -30))


def frequency_band(purchases: int) -> int | None:
    return None if purchases == 0 else _band(purchases, (2, 3, 5, 10))


def monetary_band(minor_units: int) -> int | None:
    return None if minor_units <= 0 else _band(minor_units, (2_000, 5_000, 15_000, 50_000))


def _band(value: int, thresholds: tuple[int, int, int, int]) -> int:
    """1 below the first threshold, then one more for each threshold reached, up to 5."""
    return 1 + sum(value >= t for t in thresholds)
