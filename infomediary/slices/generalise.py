"""Generalisation of stored profile values for slices: pure functions of (value, today, level).

Level 0 is what every slice starts from; higher levels are coarser and are used only when the slice is
not yet k-anonymous. A value that cannot be generalised safely becomes None (not released).
"""

from __future__ import annotations

from datetime import date
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


def interests(value: Any, today: date, level: int) -> tuple[str, ...] | None:
    """Only interests of the fixed vocabulary: a free-text interest could name the person."""
    if not isinstance(value, list):
        return None
    return tuple(sorted({i.strip().lower() for i in value if isinstance(i, str)} & set(INTERESTS)))


def tags(value: Any, today: date, level: int) -> tuple[str, ...] | None:
    """A list from a closed vocabulary (the preferred channels), as a sorted tuple."""
    if not isinstance(value, list):
        return None
    return tuple(sorted({v for v in value if isinstance(v, str)}))


def language(value: Any, today: date, level: int) -> str | None:
    """The primary language subtag only: a region or script subtag narrows the person down."""
    return value.split("-")[0] if isinstance(value, str) else None
