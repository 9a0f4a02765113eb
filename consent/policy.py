"""Supplier privacy policies: versions, widening, the consent floor, and declared use.

A supplier publishes numbered versions of its policy, each declaring the purposes it processes for
and the data categories it asks for. Two rules follow from the product brief:

* **Widening invalidates.** A new version widens when it declares a purpose or a category the
  previous version did not. The app stores per supplier a `consent_floor_version`: the latest
  version that widened (or the first version). Consents a customer gave to that supplier under a
  version below the floor count as invalidated at decision time (see `records.effective_state`).
  Narrowing, or republishing with the same declarations, keeps the floor: customers agreed to more.
* **Undeclared use is denied.** A request for a purpose or a category that the supplier's current
  policy does not declare is denied with its own reason, and the broker records a strike for it.
  `undeclared()` answers that question independently of any customer, so the broker can strike
  the supplier even when a customer-level rule (e.g. restriction) already denied the request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from consent.errors import InvalidRecord
from consent.vocabulary import Category, Purpose


@dataclass(frozen=True, slots=True)
class SupplierPolicy:
    """One published version of a supplier's privacy policy."""

    supplier_id: str
    version: int
    purposes: frozenset[Purpose]
    categories: frozenset[Category]
    published_at: datetime
    policy_url: str | None = None

    def __post_init__(self) -> None:
        if not self.supplier_id:
            raise InvalidRecord("supplier_id must be non-empty")
        if self.version < 1:
            raise InvalidRecord("policy versions start at 1")
        if self.published_at.utcoffset() is None:
            raise InvalidRecord("published_at must be timezone-aware (UTC)")


@dataclass(frozen=True, slots=True)
class Widening:
    """What a new policy version adds over the previous one. Falsy when it adds nothing."""

    added_purposes: frozenset[Purpose]
    added_categories: frozenset[Category]

    def __bool__(self) -> bool:
        return bool(self.added_purposes or self.added_categories)


def widening(old: SupplierPolicy, new: SupplierPolicy) -> Widening:
    """The purposes and categories `new` declares that `old` did not."""
    if old.supplier_id != new.supplier_id:
        raise InvalidRecord("cannot compare policies of two different suppliers")
    if new.version <= old.version:
        raise InvalidRecord(f"version {new.version} does not follow version {old.version}")
    return Widening(new.purposes - old.purposes, new.categories - old.categories)


def widens(old: SupplierPolicy, new: SupplierPolicy) -> bool:
    """True when `new` adds any purpose or category to `old`."""
    return bool(widening(old, new))


def next_consent_floor(current_floor: int | None, old: SupplierPolicy | None, new: SupplierPolicy) -> int:
    """The consent floor after publishing `new` (with `old` the version it replaces, if any).

    The first version is its own floor; a widening version becomes the floor; otherwise it stays.
    """
    if old is None or current_floor is None:
        return new.version
    return new.version if widens(old, new) else current_floor


@dataclass(frozen=True, slots=True)
class PolicyInForce:
    """A supplier's current policy with its consent floor: what `decide()` needs to know of it."""

    policy: SupplierPolicy
    consent_floor_version: int

    def __post_init__(self) -> None:
        if not 1 <= self.consent_floor_version <= self.policy.version:
            raise InvalidRecord("the consent floor must be between 1 and the current policy version")

    @property
    def supplier_id(self) -> str:
        """The supplier this policy belongs to."""
        return self.policy.supplier_id


@dataclass(frozen=True, slots=True)
class Undeclared:
    """What a request asks beyond the supplier's current policy. Falsy when nothing."""

    purpose: Purpose | None
    categories: frozenset[Category]

    def __bool__(self) -> bool:
        return self.purpose is not None or bool(self.categories)


def undeclared(policy: SupplierPolicy, purpose: Purpose, categories: Iterable[Category]) -> Undeclared:
    """The purpose (if undeclared) and the categories a request asks that `policy` does not declare."""
    return Undeclared(
        None if purpose in policy.purposes else purpose,
        frozenset(c for c in categories if c not in policy.categories),
    )
