"""Standing terms: indexing and the binding price floor."""

from __future__ import annotations

import pytest

from consent.errors import InvalidRecord
from consent.terms import MinPrice, NeverCategory, NeverPurpose, OnlyUnstruckSuppliers, StandingTerms
from consent.vocabulary import Category, Purpose


def test_index() -> None:
    terms = StandingTerms.of(
        "c",
        [
            NeverCategory("a", Category.HEALTH),
            NeverPurpose("b", Purpose.MARKETING),
            MinPrice("c", 5),
            MinPrice("d", 50, Category.PRECISE_LOCATION),
            MinPrice("e", 2, Category.INTERESTS),
            OnlyUnstruckSuppliers("f"),
        ],
    )
    assert terms.never_categories == {Category.HEALTH: "a"}
    assert terms.never_purposes == {Purpose.MARKETING: "b"}
    assert terms.only_unstruck_suppliers == "f"
    # The highest applicable floor binds: category-specific when higher, else the general one.
    assert terms.min_price_for(Category.PRECISE_LOCATION) == (50, "d")
    assert terms.min_price_for(Category.INTERESTS) == (5, "c")
    assert terms.min_price_for(Category.ACTIVITY) == (5, "c")
    assert StandingTerms.none("c").min_price_for(Category.ACTIVITY) is None


def test_invalid_terms() -> None:
    with pytest.raises(InvalidRecord):
        MinPrice("x", -1)
    with pytest.raises(InvalidRecord):
        StandingTerms.of("c", [MinPrice("x", 1), MinPrice("x", 2)])
