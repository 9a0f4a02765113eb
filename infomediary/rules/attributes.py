"""The allow-list of what a business rule may test: generalised profile attributes and derived figures.

The profile attributes are the audience index dimensions (`audiences.dimensions`), so a rule can say no more
about a customer than an audience count can. Derived figures are computed from the customer's activity in
the broker at evaluation time (the basket: what is in the cart at this supplier, at catalog prices). Each
attribute names the data category it derives from: a rule reading it fires only for customers who consent
to that category for personalisation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from consent.vocabulary import Category
from infomediary.audiences.dimensions import DIMENSIONS

MAX_NUMBER = 10**12


@dataclass(frozen=True)
class Attribute:
    """A testable attribute: a finite domain (`values`, maybe ordered) or a bounded integer (`values` None)"""

    key: str
    category: Category
    values: tuple[str, ...] | tuple[int, ...] | None
    ordered: bool
    description: str

    @property
    def numeric(self) -> bool:
        return self.values is None


def _from_dimensions() -> dict[str, Attribute]:
    out: dict[str, Attribute] = {}
    for key, dimension in DIMENSIONS.items():
        if dimension.domain is None:
            # The postal prefix has an open domain; rules have no use for it and keep their domains finite.
            continue
        out[key] = Attribute(
            key, dimension.category, dimension.domain, dimension.ordered, dimension.description
        )
    return out


ATTRIBUTES: Final[Mapping[str, Attribute]] = MappingProxyType(
    {
        **_from_dimensions(),
        "basket_value": Attribute(
            "basket_value",
            Category.ACTIVITY,
            None,
            True,
            "Value of the items now in the customer's cart at this supplier, minor units at catalog prices.",
        ),
        "basket_items": Attribute(
            "basket_items", Category.ACTIVITY, None, True, "Number of items now in the customer's cart here."
        ),
    }
)
