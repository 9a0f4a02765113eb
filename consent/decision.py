"""The single decision point: may this supplier use these categories of this customer's data?

`decide(request, consents, terms, policy)` is pure and deterministic: no I/O, no clock (the time is
`request.query.now`), no randomness. Every data category asked is decided on its own, and the
request is permitted only if every category is. For each category the rules apply in this order;
the first rule that settles the category wins:

1. **Restriction.** A customer who restricted processing is denied to every supplier
   (`processing_restricted`).
2. **Standing terms.** "Never for this purpose" denies (`never_purpose`); "only suppliers without
   strikes" denies a supplier with strikes (`supplier_has_strikes`); "never this category" denies
   that category (`never_category`). Terms override any grant.
3. **Declared use.** A purpose, or a category, that the supplier's current policy does not declare
   is denied (`undeclared_purpose`, `undeclared_category`); the broker strikes the supplier.
4. **Consent records.** Only records *in force* at `now` count: `given` (not expired, and for a named
   supplier given under a policy version at or above its consent floor), `refused` and `withdrawn`.
   `requested`, `expired` and `invalidated` records count for nothing.

   a. The most specific level present decides: (this supplier, this category) beats a record with
      one wildcard (ALL_SUPPLIERS or ALL_CATEGORIES), which beats (ALL_SUPPLIERS, ALL_CATEGORIES).
      Among records of the same level a refusal or withdrawal beats a grant
      (`consent_withdrawn`, `consent_refused`).
   b. A grant chosen by (a) is still overridden by a broader refusal or withdrawal recorded at the
      same time or later than the latest such grant: a later broad "no" cancels earlier exceptions,
      while a specific "yes" given after a broad "no" is an exception to it.
   c. Global Privacy Control. For a sale or transfer purpose, an active GPC signal is an opt-out
      recorded at `customer.gpc_recorded_at`. It overrides the grants of (a) unless one of them
      names this supplier and was recorded strictly after the signal (`gpc_opt_out`). A GPC signal
      with no recorded time overrides every grant: no grant can be shown to be newer.
   d. Opt-in uses need grants that name what they open: an identity release needs a grant naming
      this supplier (a grant to ALL_SUPPLIERS never releases identity, non-negotiable 5), and a
      sensitive category needs a grant naming that category (an ALL_CATEGORIES grant covers ordinary
      data only: explicit consent to special categories must be specific). Grants that do not
      qualify are set aside, and the category falls through to the defaults.

5. **Defaults.** Without a deciding record, ordinary data for an ordinary purpose in an ordinary
   release kind is permitted (opt-out: `permitted_by_default`). Sensitive data, any sale or
   transfer purpose and any identity release are denied (opt-in: `opt_in_required`).
6. **Price.** The customer asks the highest of the prices on the grants relied on and of the
   binding minimum-price term; an offer below that is denied (`price_too_low`). A permit relying on
   a grant reports `permitted_by_consent`.

The decision's overall reason is the reason of the denied category whose rule comes first in this
list (vocabulary order breaks ties); a permit reports `permitted_by_consent` if any category relied on
a grant, else `permitted_by_default`.

The same rules in set form, for the broker's SQL over many customers, live in `consent.plan`. It
imports `default_permits` from here, the rule 5 that `decide()` uses itself, so the two forms share
their defaults by construction.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Final

from consent.errors import CustomerMismatch, InvalidRecord
from consent.policy import PolicyInForce
from consent.records import (
    ALL_CATEGORIES,
    ALL_SUPPLIERS,
    ConsentPortfolio,
    ConsentRecord,
    ConsentState,
)
from consent.terms import StandingTerms
from consent.vocabulary import (
    CATEGORY_ORDER,
    OPT_IN_RELEASE_KINDS,
    SALE_OR_TRANSFER_PURPOSES,
    SENSITIVE_CATEGORIES,
    Category,
    Purpose,
    ReleaseKind,
)


class Reason(enum.StrEnum):
    """Stable machine reason codes. Member order is the precedence order of the rules."""

    PROCESSING_RESTRICTED = "processing_restricted"
    NEVER_PURPOSE = "never_purpose"
    SUPPLIER_HAS_STRIKES = "supplier_has_strikes"
    NEVER_CATEGORY = "never_category"
    UNDECLARED_PURPOSE = "undeclared_purpose"
    UNDECLARED_CATEGORY = "undeclared_category"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    CONSENT_REFUSED = "consent_refused"
    GPC_OPT_OUT = "gpc_opt_out"
    OPT_IN_REQUIRED = "opt_in_required"
    PRICE_TOO_LOW = "price_too_low"
    PERMITTED_BY_CONSENT = "permitted_by_consent"
    PERMITTED_BY_DEFAULT = "permitted_by_default"


REASON_TEXT: Final[Mapping[Reason, str]] = MappingProxyType(
    {
        Reason.PROCESSING_RESTRICTED: "The customer has restricted all processing of their data.",
        Reason.NEVER_PURPOSE: "The customer never allows their data to be used for this purpose.",
        Reason.SUPPLIER_HAS_STRIKES: "The customer only deals with suppliers that have no strikes.",
        Reason.NEVER_CATEGORY: "The customer never shares this kind of data.",
        Reason.UNDECLARED_PURPOSE: "The supplier's privacy policy does not declare this purpose.",
        Reason.UNDECLARED_CATEGORY: "The supplier's privacy policy does not declare this kind of data.",
        Reason.CONSENT_WITHDRAWN: "The customer withdrew their consent.",
        Reason.CONSENT_REFUSED: "The customer refused consent.",
        Reason.GPC_OPT_OUT: "The customer's browser asked not to sell or share their data (GPC).",
        Reason.OPT_IN_REQUIRED: "This use needs the customer's explicit consent, which is not in force.",
        Reason.PRICE_TOO_LOW: "The offer is below the price the customer asks.",
        Reason.PERMITTED_BY_CONSENT: "The customer gave consent for this use.",
        Reason.PERMITTED_BY_DEFAULT: "Ordinary data for an ordinary purpose; the customer has not objected.",
    }
)

# Module-level aliases: a global lookup is cheaper than an enum attribute lookup in the hot loop.
_GIVEN: Final = ConsentState.GIVEN
_REFUSED: Final = ConsentState.REFUSED
_WITHDRAWN: Final = ConsentState.WITHDRAWN

_RANK: Final[Mapping[Reason, int]] = MappingProxyType({r: i for i, r in enumerate(Reason)})


@dataclass(frozen=True, slots=True)
class CustomerContext:
    """What the decision needs to know about the customer besides records and terms."""

    customer_id: str
    restricted: bool = False
    gpc: bool = False
    # When the app recorded the GPC opt-out; None means unknown (then GPC overrides every grant).
    gpc_recorded_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SupplierQuery:
    """The customer-independent part of a request: the same for every customer of a bulk query."""

    supplier_id: str
    purpose: Purpose
    categories: frozenset[Category]
    release_kind: ReleaseKind
    now: datetime
    supplier_strikes: int = 0
    offered_price: int = 0
    # The categories in vocabulary order, computed once: outputs must not depend on set order.
    ordered_categories: tuple[Category, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.supplier_id:
            raise InvalidRecord("supplier_id must be non-empty")
        if not self.categories:
            raise InvalidRecord("a request must ask for at least one data category")
        if self.supplier_strikes < 0 or self.offered_price < 0:
            raise InvalidRecord("strikes and offered price are non-negative")
        if self.now.utcoffset() is None:
            raise InvalidRecord("now must be timezone-aware (UTC)")
        object.__setattr__(
            self, "ordered_categories", tuple(sorted(self.categories, key=CATEGORY_ORDER.__getitem__))
        )


@dataclass(frozen=True, slots=True)
class DecisionRequest:
    """One customer and one supplier query."""

    customer: CustomerContext
    query: SupplierQuery


@dataclass(frozen=True, slots=True)
class CategoryOutcome:
    """The decision for one asked category, with what it relied on."""

    category: Category
    permitted: bool
    reason: Reason
    record_ids: tuple[str, ...] = ()
    term_ids: tuple[str, ...] = ()
    asked_price: int = 0


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer for a whole request. `asked_price` is what the customer asks (max over categories)."""

    permitted: bool
    reason: Reason
    text: str
    outcomes: tuple[CategoryOutcome, ...]
    record_ids: tuple[str, ...]
    term_ids: tuple[str, ...]
    asked_price: int


# --- the rules -----------------------------------------------------------------------------------


def default_permits(category: Category, purpose: Purpose, release_kind: ReleaseKind) -> bool:
    """Rule 5: True when the use is opt-out (permitted unless the customer objects)."""
    return (
        category not in SENSITIVE_CATEGORIES
        and purpose not in SALE_OR_TRANSFER_PURPOSES
        and release_kind not in OPT_IN_RELEASE_KINDS
    )


def decide(
    request: DecisionRequest, consents: ConsentPortfolio, terms: StandingTerms, policy: PolicyInForce
) -> Decision:
    """Decide `request` for one customer; see the module docstring for the rules, in order."""
    customer = request.customer
    query = request.query
    if consents.customer_id != customer.customer_id or terms.customer_id != customer.customer_id:
        raise CustomerMismatch("consents, terms and request must all be of the same customer")
    if policy.policy.supplier_id != query.supplier_id:
        raise InvalidRecord("the policy in force is not the requesting supplier's")

    purpose = query.purpose
    never_purpose = terms.never_purposes.get(purpose)
    struck = terms.only_unstruck_suppliers if query.supplier_strikes > 0 else None
    never_categories = terms.never_categories
    purpose_declared = purpose in policy.policy.purposes
    declared_categories = policy.policy.categories
    by_supplier, by_all = consents.lookup(query.supplier_id, purpose)
    supplier_by_category = by_supplier.by_category
    all_by_category = by_all.by_category
    no_records: tuple[ConsentRecord, ...] = ()

    outcomes: list[CategoryOutcome] = []
    for category in query.ordered_categories:
        # 1. Restriction.
        if customer.restricted:
            outcome = CategoryOutcome(category, False, Reason.PROCESSING_RESTRICTED)
        # 2. Standing terms.
        elif never_purpose is not None:
            outcome = CategoryOutcome(category, False, Reason.NEVER_PURPOSE, (), (never_purpose,))
        elif struck is not None:
            outcome = CategoryOutcome(category, False, Reason.SUPPLIER_HAS_STRIKES, (), (struck,))
        elif category in never_categories:
            never_id = never_categories[category]
            outcome = CategoryOutcome(category, False, Reason.NEVER_CATEGORY, (), (never_id,))
        # 3. Declared use.
        elif not purpose_declared:
            outcome = CategoryOutcome(category, False, Reason.UNDECLARED_PURPOSE)
        elif category not in declared_categories:
            outcome = CategoryOutcome(category, False, Reason.UNDECLARED_CATEGORY)
        # 4.-6. Records, defaults, price.
        else:
            outcome = _decide_by_records(
                category,
                (
                    (2, supplier_by_category.get(category, no_records)),
                    (1, by_supplier.all_categories),
                    (1, all_by_category.get(category, no_records)),
                    (0, by_all.all_categories),
                ),
                customer,
                query,
                terms,
                policy.consent_floor_version,
            )
        outcomes.append(outcome)
    return _summarise(outcomes)


def _decide_by_records(
    category: Category,
    groups: tuple[tuple[int, tuple[ConsentRecord, ...]], ...],
    customer: CustomerContext,
    query: SupplierQuery,
    terms: StandingTerms,
    floor: int,
) -> CategoryOutcome:
    """Rules 4 to 6 for one category; `groups` are the candidate records by specificity, highest first."""
    now = query.now
    top_level = -1
    top_grants: list[ConsentRecord] = []
    top_denies: list[ConsentRecord] = []
    lower_denies: list[ConsentRecord] = []
    for level, group in groups:
        for record in group:
            # In force = records.effective_state() is given, refused or withdrawn; inlined because
            # this is the innermost loop (the brute-force property test checks the equivalence).
            state = record.state
            if state is _GIVEN:
                if (record.policy_version or 0) < floor and record.supplier is not ALL_SUPPLIERS:
                    continue  # invalidated by a widening policy
                if record.expires_at is not None and now >= record.expires_at:
                    continue  # expired
                if top_level < 0:
                    top_level = level
                if level == top_level:
                    top_grants.append(record)
            elif state is _REFUSED or state is _WITHDRAWN:
                if top_level < 0:
                    top_level = level
                if level == top_level:
                    top_denies.append(record)
                else:
                    lower_denies.append(record)
            # requested, expired, invalidated: not in force, count for nothing.

    # 4a. Most specific level; a "no" wins among equals.
    if top_denies:
        return _deny_by_records(category, top_denies)
    grants = top_grants
    if grants:
        # 4b. A broader "no" at or after the latest grant of the deciding level overrides it.
        latest = grants[0].updated_at
        for grant in grants:
            if grant.updated_at > latest:
                latest = grant.updated_at
        later_denies = [d for d in lower_denies if d.updated_at >= latest]
        if later_denies:
            return _deny_by_records(category, later_denies)
        # 4c. GPC: only a grant naming this supplier, made after the signal, survives it.
        if customer.gpc and query.purpose in SALE_OR_TRANSFER_PURPOSES:
            signal_at = customer.gpc_recorded_at
            grants = [
                g
                for g in grants
                if g.supplier is not ALL_SUPPLIERS and signal_at is not None and g.updated_at > signal_at
            ]
            if not grants:
                return CategoryOutcome(category, False, Reason.GPC_OPT_OUT)
        # 4d. Identity only to a supplier the customer named; sensitive data only if named.
        if query.release_kind is ReleaseKind.IDENTITY_RELEASE:
            grants = [g for g in grants if g.supplier is not ALL_SUPPLIERS]
        if category in SENSITIVE_CATEGORIES:
            grants = [g for g in grants if g.category is not ALL_CATEGORIES]

    # 5. Defaults (only when no grant decided).
    if not grants and not default_permits(category, query.purpose, query.release_kind):
        return CategoryOutcome(category, False, Reason.OPT_IN_REQUIRED)

    # 6. Price.
    asked = 0
    term_ids: tuple[str, ...] = ()
    for grant in grants:
        if grant.price is not None and grant.price > asked:
            asked = grant.price
    floor_term = terms.min_price_for(category)
    if floor_term is not None:
        term_ids = (floor_term[1],)
        if floor_term[0] > asked:
            asked = floor_term[0]
    record_ids = tuple(g.record_id for g in grants)
    if query.offered_price < asked:
        return CategoryOutcome(category, False, Reason.PRICE_TOO_LOW, record_ids, term_ids, asked)
    reason = Reason.PERMITTED_BY_CONSENT if grants else Reason.PERMITTED_BY_DEFAULT
    return CategoryOutcome(category, True, reason, record_ids, term_ids, asked)


def _deny_by_records(category: Category, denies: list[ConsentRecord]) -> CategoryOutcome:
    withdrawn = any(d.state is ConsentState.WITHDRAWN for d in denies)
    reason = Reason.CONSENT_WITHDRAWN if withdrawn else Reason.CONSENT_REFUSED
    return CategoryOutcome(category, False, reason, tuple(d.record_id for d in denies))


def _summarise(outcomes: list[CategoryOutcome]) -> Decision:
    """Fold per-category outcomes into the request's decision (overall reason per the docstring)."""
    record_ids: list[str] = []
    term_ids: list[str] = []
    asked = 0
    worst: CategoryOutcome | None = None
    any_consent = False
    for outcome in outcomes:
        record_ids.extend(outcome.record_ids)
        term_ids.extend(outcome.term_ids)
        if outcome.asked_price > asked:
            asked = outcome.asked_price
        if not outcome.permitted:
            if worst is None or _RANK[outcome.reason] < _RANK[worst.reason]:
                worst = outcome
        elif outcome.reason is Reason.PERMITTED_BY_CONSENT:
            any_consent = True
    if worst is None:
        reason = Reason.PERMITTED_BY_CONSENT if any_consent else Reason.PERMITTED_BY_DEFAULT
        text = REASON_TEXT[reason]
    else:
        reason = worst.reason
        text = (
            f"{REASON_TEXT[reason]} ({', '.join(o.category.value for o in outcomes if o.reason is reason)})"
        )
    return Decision(
        worst is None,
        reason,
        text,
        tuple(outcomes),
        tuple(dict.fromkeys(record_ids)),
        tuple(dict.fromkeys(term_ids)),
        asked,
    )
