"""Consent records, their append-only event history, the state machine, and a per-customer index.

A `ConsentRecord` is one customer's answer for one (supplier, purpose, data category). The supplier
may be the explicit wildcard `ALL_SUPPLIERS` and the category the wildcard `ALL_CATEGORIES`; the
wildcards are members of one-member enums rather than magic strings, so an opaque supplier id can
never collide with them and mypy can tell them apart from real keys.

States follow the DPV consent status concepts (`dpv:ConsentRequested`, `dpv:ConsentGiven`,
`dpv:ConsentRefused`, `dpv:ConsentWithdrawn`, `dpv:ConsentExpired`, `dpv:ConsentInvalidated`).

Two states are also *derived at decision time* (`effective_state`), so that no background job has to
run before a decision is right:

* a `given` record whose `expires_at` has passed counts as `expired`;
* a `given` or `requested` record for a named supplier, given under a policy version below that
  supplier's consent floor (the latest version that widened its use), counts as `invalidated`.
  Refusals and withdrawals are never invalidated: a wider policy cannot undo a "no".
  Wildcard-supplier records are not tied to any supplier's policy and carry no version.

History is append-only: every change is described by a `ConsentEvent`, produced together with the
new record by `open_record` and `transition`, which enforce the state machine.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import Final, TypeAlias

from consent.errors import CustomerMismatch, InvalidRecord, InvalidTransition
from consent.vocabulary import Category, Purpose


class ConsentState(enum.StrEnum):
    """Consent status, after the DPV concepts of the same names."""

    REQUESTED = "requested"
    GIVEN = "given"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    INVALIDATED = "invalidated"


STATE_DPV_IRI: Final[Mapping[ConsentState, str]] = MappingProxyType(
    {
        ConsentState.REQUESTED: "https://w3id.org/dpv#ConsentRequested",
        ConsentState.GIVEN: "https://w3id.org/dpv#ConsentGiven",
        ConsentState.REFUSED: "https://w3id.org/dpv#ConsentRefused",
        ConsentState.WITHDRAWN: "https://w3id.org/dpv#ConsentWithdrawn",
        ConsentState.EXPIRED: "https://w3id.org/dpv#ConsentExpired",
        ConsentState.INVALIDATED: "https://w3id.org/dpv#ConsentInvalidated",
    }
)

# States that are a customer's "no": in force whatever the policy version or the clock says.
DENY_STATES: Final[frozenset[ConsentState]] = frozenset({ConsentState.REFUSED, ConsentState.WITHDRAWN})


class AllSuppliers(enum.Enum):
    """Type of the `ALL_SUPPLIERS` wildcard."""

    ALL_SUPPLIERS = "*"


class AllCategories(enum.Enum):
    """Type of the `ALL_CATEGORIES` wildcard."""

    ALL_CATEGORIES = "*"


ALL_SUPPLIERS: Final = AllSuppliers.ALL_SUPPLIERS
ALL_CATEGORIES: Final = AllCategories.ALL_CATEGORIES

SupplierScope: TypeAlias = str | AllSuppliers
CategoryScope: TypeAlias = Category | AllCategories


class Actor(enum.StrEnum):
    """Who caused a consent event."""

    CUSTOMER = "customer"
    SUPPLIER = "supplier"
    SYSTEM = "system"
    OPERATOR = "operator"


def _require_aware(name: str, value: datetime | None) -> None:
    # Naive datetimes compare wrongly against aware ones (TypeError at best, a silent offset at
    # worst), so reject them where records are built rather than inside decide().
    if value is not None and value.utcoffset() is None:
        raise InvalidRecord(f"{name} must be timezone-aware (UTC)")


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    """One customer's consent state for one (supplier, purpose, category), possibly wildcarded.

    `updated_at` is when the record entered its current state; the decision point compares it with
    broader refusals and with the Global Privacy Control signal ("which came later?").
    `price` is the number of credits the customer asks for this use (None: nothing asked).
    `policy_version` is the supplier policy version the record was given (or requested) under.
    """

    record_id: str
    customer_id: str
    supplier: SupplierScope
    purpose: Purpose
    category: CategoryScope
    state: ConsentState
    created_at: datetime
    updated_at: datetime
    policy_version: int | None = None
    expires_at: datetime | None = None
    price: int | None = None
    # Derived once so that decide() reads an int instead of recomputing it per call.
    specificity: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.record_id or not self.customer_id:
            raise InvalidRecord("record_id and customer_id must be non-empty")
        if isinstance(self.supplier, str) and not self.supplier:
            raise InvalidRecord("supplier id must be non-empty (use ALL_SUPPLIERS for every supplier)")
        _require_aware("created_at", self.created_at)
        _require_aware("updated_at", self.updated_at)
        _require_aware("expires_at", self.expires_at)
        if self.updated_at < self.created_at:
            raise InvalidRecord("updated_at is before created_at")
        if self.price is not None and self.price < 0:
            raise InvalidRecord("price must be a non-negative number of credits")
        if self.policy_version is not None and self.policy_version < 1:
            raise InvalidRecord("policy versions start at 1")
        if self.supplier is ALL_SUPPLIERS and self.policy_version is not None:
            raise InvalidRecord("a record for ALL_SUPPLIERS is not given under any one supplier's policy")
        names_supplier = isinstance(self.supplier, str)
        if names_supplier and self.state is ConsentState.GIVEN and self.policy_version is None:
            raise InvalidRecord("consent given to a supplier must name the policy version it was given under")
        object.__setattr__(
            self,
            "specificity",
            int(self.supplier is not ALL_SUPPLIERS) + int(self.category is not ALL_CATEGORIES),
        )

    @property
    def names_supplier(self) -> bool:
        """True when the record is for one named supplier rather than ALL_SUPPLIERS."""
        return self.supplier is not ALL_SUPPLIERS


def effective_state(record: ConsentRecord, now: datetime, consent_floor_version: int) -> ConsentState:
    """The state the record has at `now` for a supplier whose consent floor is given.

    Invalidation is checked before expiry because it is the more permanent of the two (a renewed
    expiry would not bring it back); either way the record is not in force.
    """
    state = record.state
    if state is ConsentState.GIVEN or state is ConsentState.REQUESTED:
        if record.supplier is not ALL_SUPPLIERS and (
            record.policy_version is None or record.policy_version < consent_floor_version
        ):
            return ConsentState.INVALIDATED
        if state is ConsentState.GIVEN and record.expires_at is not None and now >= record.expires_at:
            return ConsentState.EXPIRED
    return state


@dataclass(frozen=True, slots=True)
class ConsentEvent:
    """One entry of a record's append-only history. `from_state` is None when the record is opened."""

    record_id: str
    from_state: ConsentState | None
    to_state: ConsentState
    at: datetime
    actor: Actor
    reason: str


# The state machine. Granting is possible from any state (a customer may always say yes, again).
# Withdrawal is only meaningful for a consent in force. A refusal answers a request, or a lapsed
# consent being asked again. A supplier may ask again only after a consent lapsed: re-requesting
# over a refusal or withdrawal would both pester the customer and, worse, replace a "no" by a state
# that no longer denies.
ALLOWED_TRANSITIONS: Final[Mapping[ConsentState, frozenset[ConsentState]]] = MappingProxyType(
    {
        ConsentState.GIVEN: frozenset(ConsentState),
        ConsentState.WITHDRAWN: frozenset({ConsentState.GIVEN}),
        ConsentState.REFUSED: frozenset(
            {ConsentState.REQUESTED, ConsentState.EXPIRED, ConsentState.INVALIDATED}
        ),
        ConsentState.REQUESTED: frozenset({ConsentState.EXPIRED, ConsentState.INVALIDATED}),
        ConsentState.EXPIRED: frozenset({ConsentState.GIVEN, ConsentState.REQUESTED}),
        ConsentState.INVALIDATED: frozenset({ConsentState.GIVEN, ConsentState.REQUESTED}),
    }
)

# States a record may be opened in: a supplier asks, or a customer answers without being asked.
INITIAL_STATES: Final[frozenset[ConsentState]] = frozenset(
    {ConsentState.REQUESTED, ConsentState.GIVEN, ConsentState.REFUSED}
)

# Only the data subject can say yes or no; anyone else doing so is forging consent.
CUSTOMER_ONLY_STATES: Final[frozenset[ConsentState]] = frozenset(
    {ConsentState.GIVEN, ConsentState.REFUSED, ConsentState.WITHDRAWN}
)


class _Keep(enum.Enum):
    KEEP = "keep"


KEEP: Final = _Keep.KEEP
"""Sentinel for `transition`: leave this field as it is."""


def _check_actor(to_state: ConsentState, actor: Actor, from_state: ConsentState | None) -> None:
    if to_state in CUSTOMER_ONLY_STATES and actor is not Actor.CUSTOMER:
        raise InvalidTransition(
            f"only the customer can move a consent to {to_state.value!r} (actor was {actor.value!r})",
            from_state=None if from_state is None else from_state.value,
            to_state=to_state.value,
        )


def open_record(
    *,
    record_id: str,
    customer_id: str,
    supplier: SupplierScope,
    purpose: Purpose,
    category: CategoryScope,
    state: ConsentState,
    at: datetime,
    actor: Actor,
    reason: str,
    policy_version: int | None = None,
    expires_at: datetime | None = None,
    price: int | None = None,
) -> tuple[ConsentRecord, ConsentEvent]:
    """A new record and the event that opens its history."""
    if state not in INITIAL_STATES:
        raise InvalidTransition(
            f"a consent record cannot start as {state.value!r}; start as one of "
            f"{sorted(s.value for s in INITIAL_STATES)}",
            from_state=None,
            to_state=state.value,
        )
    _check_actor(state, actor, None)
    record = ConsentRecord(
        record_id=record_id,
        customer_id=customer_id,
        supplier=supplier,
        purpose=purpose,
        category=category,
        state=state,
        created_at=at,
        updated_at=at,
        policy_version=policy_version,
        expires_at=expires_at,
        price=price,
    )
    return record, ConsentEvent(record_id, None, state, at, actor, reason)


def transition(
    record: ConsentRecord,
    to_state: ConsentState,
    *,
    at: datetime,
    actor: Actor,
    reason: str,
    policy_version: int | _Keep | None = KEEP,
    expires_at: datetime | _Keep | None = KEEP,
    price: int | _Keep | None = KEEP,
) -> tuple[ConsentRecord, ConsentEvent]:
    """Move `record` to `to_state`; returns the new record and the event to append.

    Raises `InvalidTransition` for a change the state machine forbids, for a customer-only change
    made by someone else, and for a change dated before the record's current state.
    """
    if record.state not in ALLOWED_TRANSITIONS[to_state]:
        allowed = sorted(s.value for s in ALLOWED_TRANSITIONS[to_state])
        raise InvalidTransition(
            f"cannot move consent {record.record_id!r} from {record.state.value!r} to {to_state.value!r}; "
            f"{to_state.value!r} is reachable only from {allowed}",
            from_state=record.state.value,
            to_state=to_state.value,
        )
    _check_actor(to_state, actor, record.state)
    _require_aware("at", at)
    if at < record.updated_at:
        raise InvalidTransition(
            f"cannot date a change of consent {record.record_id!r} before its current state ({at} < "
            f"{record.updated_at})",
            from_state=record.state.value,
            to_state=to_state.value,
        )
    new = replace(
        record,
        state=to_state,
        updated_at=at,
        policy_version=record.policy_version if policy_version is KEEP else policy_version,
        expires_at=record.expires_at if expires_at is KEEP else expires_at,
        price=record.price if price is KEEP else price,
    )
    return new, ConsentEvent(record.record_id, record.state, to_state, at, actor, reason)


RecordsByCategory: TypeAlias = Mapping[Category, tuple[ConsentRecord, ...]]


@dataclass(frozen=True, slots=True)
class ScopedRecords:
    """The records of one (supplier scope, purpose): by named category, and for ALL_CATEGORIES.

    The wildcard records are kept apart from the by-category dict so that a lookup hashes only
    categories, once each.
    """

    by_category: RecordsByCategory
    all_categories: tuple[ConsentRecord, ...]


@dataclass(frozen=True, slots=True)
class ConsentPortfolio:
    """All consent records of one customer, indexed for the decision point.

    Built once per customer (and rebuilt when a record changes), so that `decide()` does a couple of
    dict lookups per asked category instead of scanning every record. `lookup(supplier, purpose)`
    returns the records for that supplier and for ALL_SUPPLIERS; within each, the records for one
    category and those for ALL_CATEGORIES. Together these are the four groups that can match a
    request: (supplier, category), (supplier, ALL), (ALL, category), (ALL, ALL).
    """

    customer_id: str
    records: tuple[ConsentRecord, ...]
    _by_supplier: Mapping[tuple[str, Purpose], ScopedRecords] = field(repr=False, compare=False)
    _all_suppliers: Mapping[Purpose, ScopedRecords] = field(repr=False, compare=False)

    @classmethod
    def of(cls, customer_id: str, records: Iterable[ConsentRecord]) -> ConsentPortfolio:
        """Index `records`, all of which must belong to `customer_id` (else `CustomerMismatch`)."""
        kept = tuple(records)
        index: dict[tuple[SupplierScope, Purpose], dict[CategoryScope, list[ConsentRecord]]] = {}
        seen: set[str] = set()
        for record in kept:
            if record.customer_id != customer_id:
                raise CustomerMismatch(
                    f"record {record.record_id!r} belongs to another customer than the portfolio's"
                )
            if record.record_id in seen:
                raise InvalidRecord(f"record {record.record_id!r} appears twice")
            seen.add(record.record_id)
            by_category = index.setdefault((record.supplier, record.purpose), {})
            by_category.setdefault(record.category, []).append(record)
        by_supplier: dict[tuple[str, Purpose], ScopedRecords] = {}
        all_suppliers: dict[Purpose, ScopedRecords] = {}
        for (supplier, purpose), by_cat in index.items():
            scoped = ScopedRecords(
                MappingProxyType({c: tuple(rs) for c, rs in by_cat.items() if isinstance(c, Category)}),
                tuple(by_cat.get(ALL_CATEGORIES, ())),
            )
            if isinstance(supplier, str):
                by_supplier[(supplier, purpose)] = scoped
            else:
                all_suppliers[purpose] = scoped
        return cls(customer_id, kept, MappingProxyType(by_supplier), MappingProxyType(all_suppliers))

    def lookup(self, supplier_id: str, purpose: Purpose) -> tuple[ScopedRecords, ScopedRecords]:
        """The records for this supplier and for ALL_SUPPLIERS, for one purpose."""
        return self._by_supplier.get((supplier_id, purpose), _EMPTY), self._all_suppliers.get(purpose, _EMPTY)


_EMPTY: Final = ScopedRecords(MappingProxyType({}), ())
