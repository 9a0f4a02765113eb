"""Small builders shared by the consent tests: one customer, one supplier, a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from consent.decision import CustomerContext, Decision, DecisionRequest, SupplierQuery, decide
from consent.policy import PolicyInForce, SupplierPolicy
from consent.records import (
    ALL_SUPPLIERS,
    CategoryScope,
    ConsentPortfolio,
    ConsentRecord,
    ConsentState,
    SupplierScope,
)
from consent.terms import StandingTerm, StandingTerms
from consent.vocabulary import Category, Purpose, ReleaseKind

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
CUSTOMER = "cust-1"
SUPPLIER = "acme"
OTHER_SUPPLIER = "beta"
CURRENT_VERSION = 3
FLOOR = 2

_counter = iter(range(1_000_000_000))


def record(
    *,
    supplier: SupplierScope = SUPPLIER,
    purpose: Purpose = Purpose.MARKETING,
    category: CategoryScope = Category.INTERESTS,
    state: ConsentState = ConsentState.GIVEN,
    at: datetime = NOW - timedelta(days=10),
    policy_version: int | None = FLOOR,
    expires_at: datetime | None = None,
    price: int | None = None,
    customer_id: str = CUSTOMER,
    record_id: str | None = None,
) -> ConsentRecord:
    """A record, with the policy version dropped automatically for ALL_SUPPLIERS."""
    return ConsentRecord(
        record_id=record_id or f"rec-{next(_counter)}",
        customer_id=customer_id,
        supplier=supplier,
        purpose=purpose,
        category=category,
        state=state,
        created_at=at - timedelta(days=1),
        updated_at=at,
        policy_version=None if supplier is ALL_SUPPLIERS else policy_version,
        expires_at=expires_at,
        price=price,
    )


def policy(
    purposes: frozenset[Purpose] | None = None,
    categories: frozenset[Category] | None = None,
    *,
    supplier: str = SUPPLIER,
) -> PolicyInForce:
    """The supplier's current policy (version 3, floor 2), declaring everything unless told."""
    return PolicyInForce(
        SupplierPolicy(
            supplier,
            CURRENT_VERSION,
            frozenset(Purpose) if purposes is None else purposes,
            frozenset(Category) if categories is None else categories,
            NOW - timedelta(days=30),
        ),
        consent_floor_version=FLOOR,
    )


def query(
    categories: frozenset[Category] | set[Category] = frozenset({Category.INTERESTS}),
    *,
    purpose: Purpose = Purpose.MARKETING,
    release_kind: ReleaseKind = ReleaseKind.PSEUDONYMOUS_SLICE,
    offered_price: int = 0,
    strikes: int = 0,
    supplier: str = SUPPLIER,
    now: datetime = NOW,
) -> SupplierQuery:
    return SupplierQuery(
        supplier_id=supplier,
        purpose=purpose,
        categories=frozenset(categories),
        release_kind=release_kind,
        now=now,
        supplier_strikes=strikes,
        offered_price=offered_price,
    )


def run(
    q: SupplierQuery,
    records: list[ConsentRecord] | tuple[ConsentRecord, ...] = (),
    terms: list[StandingTerm] | tuple[StandingTerm, ...] = (),
    *,
    restricted: bool = False,
    gpc: bool = False,
    gpc_recorded_at: datetime | None = None,
    pol: PolicyInForce | None = None,
) -> Decision:
    """decide() for CUSTOMER with the given records, terms and flags."""
    return decide(
        DecisionRequest(CustomerContext(CUSTOMER, restricted, gpc, gpc_recorded_at), q),
        ConsentPortfolio.of(CUSTOMER, records),
        StandingTerms.of(CUSTOMER, terms),
        pol or policy(supplier=q.supplier_id),
    )
