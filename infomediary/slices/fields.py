"""The allow-list of sliceable profile fields: each one's data category and generalisation ladder.

Identity and direct contact fields are never sliceable: identity reaches a supplier only through an offer
or request the customer accepts (non-negotiable 5). Free-text fields (occupation, city, health tags...)
are not sliceable either: no generalisation makes arbitrary text non-identifying.

Every sliceable field is a quasi-identifier: the slice is k-anonymous over all its columns. A column that
was only an "attribute" would still be a join key between two slices that both carry it (a rare language
or net-worth band in two releases links their rows, whatever the pseudonyms), and a set such as interests
singles a person out as well as an age does. So each field has a generalisation ladder, whose top says no
more than presence (or, for life events, the kinds), and k-anonymity climbs it before suppressing rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Any, Final

from consent.vocabulary import Category
from infomediary.slices import generalise as g
from infomediary.slices.errors import FieldNotSliceable

# Released only through an accepted offer or request, never in a slice.
IDENTITY_FIELDS: Final = frozenset({"given_name", "family_name", "email", "phone", "street_address"})

# A generaliser takes (stored JSON value, today, level) and returns a hashable, JSON-able value or None.
Generaliser = Callable[[Any, date, int], Any]


@dataclass(frozen=True)
class SliceField:
    """One sliceable field: the category its consent is decided by and how it is generalised."""

    key: str
    column: str
    category: Category
    generalise: Generaliser
    # Generalisation levels beyond the first (0); k-anonymity climbs them before suppressing rows.
    levels: int


SLICEABLE: Final[Mapping[str, SliceField]] = MappingProxyType(
    {
        f.key: f
        for f in (
            SliceField("birth_date", "age_band", Category.DEMOGRAPHICS, g.age_band, levels=2),
            SliceField("postal_code", "postal_prefix", Category.CONTACT, g.postal_prefix, levels=2),
            SliceField("gender", "gender", Category.DEMOGRAPHICS, g.same, levels=1),
            SliceField("country", "country", Category.CONTACT, g.same, levels=1),
            SliceField("household_size", "household_size", Category.DEMOGRAPHICS, g.household, levels=1),
            SliceField("income_band", "income_band", Category.DEMOGRAPHICS, g.same, levels=1),
            SliceField("life_events", "life_events", Category.LIFE_EVENTS, g.life_events, levels=2),
            SliceField("interests", "interests", Category.INTERESTS, g.interests, levels=3),
            SliceField("preferred_channels", "preferred_channels", Category.PREFERENCES, g.tags, levels=2),
            SliceField("language", "language", Category.PREFERENCES, g.language, levels=1),
            SliceField("net_worth_band", "net_worth_band", Category.FINANCES, g.same, levels=1),
        )
    }
)


def resolve(keys: Iterable[str]) -> list[SliceField]:
    """The allow-listed fields for `keys`, in the order asked (duplicates dropped), or FieldNotSliceable."""
    asked = list(dict.fromkeys(keys))
    identity = [k for k in asked if k in IDENTITY_FIELDS]
    if identity:
        raise FieldNotSliceable(
            "identity fields are released only through an offer or request the customer accepts, "
            f"never in a slice: {', '.join(identity)}",
            fields=identity,
        )
    unknown = [k for k in asked if k not in SLICEABLE]
    if unknown:
        raise FieldNotSliceable(
            f"not sliceable: {', '.join(unknown)}; sliceable fields: {', '.join(SLICEABLE)}", fields=unknown
        )
    if not asked:
        raise FieldNotSliceable("a slice needs at least one field")
    return [SLICEABLE[k] for k in asked]


def categories(fields: Iterable[SliceField]) -> frozenset[Category]:
    return frozenset(f.category for f in fields)
