"""Generalisation of stored profile values for slices: pure functions of (value, today, level).

Level 0 is what every slice starts from; higher levels are coarser and are used only when the slice is
not yet k-anonymous. A value that cannot be generalised safely becomes None (not released).
"""

from __future__ import annotations

from datetime import date
from types import MappingProxyType
from typing import Any, Final

from infomediary.audiences.dimensions import INTERESTS

# Band widths in years per level: 10-year bands, then 20, then adult / not.
_AGE_WIDTHS: Final = (10, 20, 0)
_PREFIX_LENGTHS: Final = (2, 1, 0)
# Where the open top band starts: a band boundary at every width (18 + 6 * 10 = 18 + 3 * 20).
_OPEN_BAND_FROM: Final = 78
SUPPRESSED: Final = "*"


def same(value: Any, today: date, level: int) -> Any:
    """A value from a closed vocabulary (gender, bands, country code); the next level hides it."""
    if level >= 1:
        return SUPPRESSED
    return value if isinstance(value, str | int) and not isinstance(value, bool) else None


def age_band(value: Any, today: date, level: int) -> str | None:
    """Birth date to an age band; minors are never released (None)."""
    if not isinstance(value, str):
        return None
    birth = date.fromisoformat(value)
    age = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
    if age < 18:
        return None
    width = _AGE_WIDTHS[min(level, len(_AGE_WIDTHS) - 1)]
    if width == 0:
        return "18+"
    # Bands start at 18 so that no band mixes minors in; the top band is open so that the very old,
    # few and easily singled out, share one class.
    low = 18 + ((age - 18) // width) * width
    return f"{_OPEN_BAND_FROM}+" if low >= _OPEN_BAND_FROM else f"{low}-{low + width - 1}"


def postal_prefix(value: Any, today: date, level: int) -> str | None:
    if not isinstance(value, str):
        return None
    length = _PREFIX_LENGTHS[min(level, len(_PREFIX_LENGTHS) - 1)]
    cleaned = "".join(ch for ch in value if ch.isalnum()).upper()
    if length == 0:
        return SUPPRESSED
    return cleaned[:length] if len(cleaned) >= length and cleaned.isascii() else None


def household(value: Any, today: date, level: int) -> str | None:
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    if level >= 1:
        return SUPPRESSED
    return str(value) if value <= 4 else "5+"


def month(value: str) -> str:
    """An ISO date to its month (YYYY-MM)."""
    return value[:7]


def life_events(value: Any, today: date, level: int) -> tuple[tuple[str, str], ...] | None:
    """Events as sorted (kind, month) pairs; level 1 keeps the year, level 2 only the kinds."""
    if not isinstance(value, list):
        return None
    out = set()
    for event in value:
        if (
            isinstance(event, dict)
            and isinstance(event.get("kind"), str)
            and isinstance(event.get("date"), str)
        ):
            when = month(event["date"]) if level == 0 else event["date"][:4] if level == 1 else SUPPRESSED
            out.add((event["kind"], when))
    return tuple(sorted(out))


# The parent category of each interest of the vocabulary: the step between the exact set and its size.
INTEREST_PARENTS: Final = MappingProxyType(
    {
        **dict.fromkeys(("cycling", "running", "hiking", "football", "yoga", "camping"), "sport & outdoors"),
        **dict.fromkeys(("cooking", "baking", "wine"), "food & drink"),
        **dict.fromkeys(("photography", "reading", "music", "films", "art", "theatre"), "arts & culture"),
        **dict.fromkeys(("gardening", "home improvement", "pets", "parenting"), "home & family"),
        **dict.fromkeys(("gaming", "technology", "cars"), "tech & gaming"),
        **dict.fromkeys(("travel", "fashion", "investing"), "lifestyle"),
    }
)
# Upper bounds of the bands of a set's size (the last band is open), for the level that keeps only how many.
_COUNT_BANDS: Final = (0, 2, 5)


def count_band(size: int) -> str:
    """How many items a set holds, as a band: "0", "1-2", "3-5", "6+"."""
    low = 0
    for high in _COUNT_BANDS:
        if size <= high:
            return str(high) if low == high else f"{low}-{high}"
        low = high + 1
    return f"{low}+"


def interests(value: Any, today: date, level: int) -> tuple[str, ...] | str | None:
    """Only interests of the fixed vocabulary (a free-text interest could name the person), then coarser.

    A set of interests singles a person out as well as an age does (issue 17: with interests beside the
    other fields, 385 of 453 rows were unique), so it is a quasi-identifier with its own ladder: the exact
    set, then the set of parent categories, then only how many parent categories (a band), then withheld.
    The band counts parents, not interests, so that a level only ever merges the classes of the one below.
    """
    if not isinstance(value, list):
        return None
    exact = {i.strip().lower() for i in value if isinstance(i, str)} & set(INTERESTS)
    if level == 0:
        return tuple(sorted(exact))
    parents = {INTEREST_PARENTS[i] for i in exact}
    if level == 1:
        return tuple(sorted(parents))
    return count_band(len(parents)) if level == 2 else SUPPRESSED


def tags(value: Any, today: date, level: int) -> tuple[str, ...] | str | None:
    """A closed-vocabulary list (the preferred channels) as a sorted tuple; then its size; withheld."""
    if not isinstance(value, list):
        return None
    exact = {v for v in value if isinstance(v, str)}
    if level == 0:
        return tuple(sorted(exact))
    return count_band(len(exact)) if level == 1 else SUPPRESSED


def language(value: Any, today: date, level: int) -> str | None:
    """The primary language subtag only: a region or script subtag narrows the person down."""
    if not isinstance(value, str):
        return None
    return SUPPRESSED if level >= 1 else value.split("-")[0]
