"""Standing terms: the customer's own rules, which override anything granted record by record.

A customer sets them once ("never my health data", "never for targeted advertising", "only for at
least 50 credits", "location only for at least 50 credits", "only suppliers without strikes") and the
decision point applies them to every request:

* `NeverCategory` and `NeverPurpose` always deny, whatever the consent records say.
* `OnlyUnstruckSuppliers` denies every request of a supplier with one or more strikes.
* `MinPrice` is a price floor, checked last (a "no" never turns into a "yes, if you pay"): an offer
  below it is denied with reason `price_too_low`. With a category it applies to that category only;
  without one, to every category. When several apply, the highest wins (the customer asked for all
  of them, so each must hold).

`StandingTerms` is the precomputed form `decide()` reads: a few dicts instead of a list to scan.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TypeAlias

from consent.errors import InvalidRecord
from consent.vocabulary import Category, Purpose


@dataclass(frozen=True, slots=True)
class NeverCategory:
    """Never share this data category, with anyone, for anything."""

    term_id: str
    category: Category


@dataclass(frozen=True, slots=True)
class NeverPurpose:
    """Never use any of my data for this purpose."""

    term_id: str
    purpose: Purpose


@dataclass(frozen=True, slots=True)
class MinPrice:
    """Only for at least `credits` per use; for one category, or for all when `category` is None."""

    term_id: str
    credits: int
    category: Category | None = None

    def __post_init__(self) -> None:
        if self.credits < 0:
            raise InvalidRecord("a minimum price is a non-negative number of credits")


@dataclass(frozen=True, slots=True)
class OnlyUnstruckSuppliers:
    """Only suppliers with no strikes (no recorded rule violations) may use my data."""

    term_id: str


StandingTerm: TypeAlias = NeverCategory | NeverPurpose | MinPrice | OnlyUnstruckSuppliers


@dataclass(frozen=True, slots=True)
class StandingTerms:
    """One customer's standing terms, indexed for the decision point.

    The mappings point at the id of the term responsible, so a decision can cite it.
    """

    customer_id: str
    terms: tuple[StandingTerm, ...]
    never_categories: Mapping[Category, str]
    never_purposes: Mapping[Purpose, str]
    # (credits, term id) for a price floor on every category, or None.
    min_price_everywhere: tuple[int, str] | None
    min_price_by_category: Mapping[Category, tuple[int, str]]
    only_unstruck_suppliers: str | None

    @classmethod
    def of(cls, customer_id: str, terms: Iterable[StandingTerm]) -> StandingTerms:
        """Index `terms`. Duplicate term ids are rejected: a decision must cite one term unambiguously."""
        kept = tuple(terms)
        ids = [t.term_id for t in kept]
        if len(set(ids)) != len(ids) or not all(ids):
            raise InvalidRecord("standing term ids must be non-empty and unique")
        never_categories: dict[Category, str] = {}
        never_purposes: dict[Purpose, str] = {}
        everywhere: tuple[int, str] | None = None
        by_category: dict[Category, tuple[int, str]] = {}
        unstruck: str | None = None
        for term in kept:
            match term:
                case NeverCategory(term_id, category):
                    never_categories.setdefault(category, term_id)
                case NeverPurpose(term_id, purpose):
                    never_purposes.setdefault(purpose, term_id)
                case MinPrice(term_id, credits, None):
                    if everywhere is None or credits > everywhere[0]:
                        everywhere = (credits, term_id)
                case MinPrice(term_id, credits, Category() as category):
                    current = by_category.get(category)
                    if current is None or credits > current[0]:
                        by_category[category] = (credits, term_id)
                case OnlyUnstruckSuppliers(term_id):
                    unstruck = unstruck or term_id
        return cls(
            customer_id,
            kept,
            MappingProxyType(never_categories),
            MappingProxyType(never_purposes),
            everywhere,
            MappingProxyType(by_category),
            unstruck,
        )

    @classmethod
    def none(cls, customer_id: str) -> StandingTerms:
        """A customer without standing terms."""
        return cls.of(customer_id, ())

    def min_price_for(self, category: Category) -> tuple[int, str] | None:
        """The binding price floor for `category` and the term that sets it, or None."""
        specific = self.min_price_by_category.get(category)
        everywhere = self.min_price_everywhere
        if specific is None:
            return everywhere
        if everywhere is None or specific[0] >= everywhere[0]:
            return specific
        return everywhere
