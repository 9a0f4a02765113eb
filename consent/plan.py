"""The set form of `consent.decision`'s rules: customer-independent facts about a query that the
broker's SQL builder compiles into a set-based filter over many customers.
"""

from __future__ import annotations

from dataclasses import dataclass

from consent.decision import SupplierQuery, default_permits
from consent.errors import InvalidRecord
from consent.policy import PolicyInForce
from consent.records import (
    ALL_CATEGORIES,
    ALL_SUPPLIERS,
    CategoryScope,
    ConsentRecord,
    SupplierScope,
)
from consent.terms import MinPrice, NeverCategory, NeverPurpose, OnlyUnstruckSuppliers, StandingTerm
from consent.vocabulary import SALE_OR_TRANSFER_PURPOSES, SENSITIVE_CATEGORIES, Category, Purpose, ReleaseKind

# The broker decides bulk queries (an audience count over every customer) in SQL. The SQL builder
# lives in infomediary/; it compiles the description below rather than re-deriving the rules:
#
# * `plan(query, policy)` says, per asked category, whether it is declared, whether the default
#   permits it, which record scopes are candidates and with which specificity level, and whether
#   GPC and the identity rule apply. Everything in it is customer-independent.
# * `record_matters(record, query)` and `term_matters(term, query)` say which rows of the records
#   and terms tables can influence the query, i.e. the WHERE clauses of the joins.
# * Per customer the SQL then applies rules 1-6 exactly as `decide()` does: restriction and
#   matching terms first; then among in-force candidate records the highest level, deny winning,
#   the later-broader-deny rule, GPC, identity; then `default_permits`; then price.
#
# `default_permits` (rule 5) is imported from `consent.decision`, which uses it itself, so the two
# forms share their defaults by construction.


def gpc_applies(purpose: Purpose) -> bool:
    """Rule 4c: True for the purposes a Global Privacy Control signal opts out of."""
    return purpose in SALE_OR_TRANSFER_PURPOSES


@dataclass(frozen=True, slots=True)
class RecordScope:
    """One (supplier scope, category scope) whose records are candidates, with its specificity level."""

    supplier: SupplierScope
    category: CategoryScope
    level: int


@dataclass(frozen=True, slots=True)
class CategoryPlan:
    """The customer-independent facts for one asked category."""

    category: Category
    declared: bool
    default_permits: bool
    # Rule 4d: only grants whose category scope is the category itself count (sensitive data).
    grant_must_name_category: bool
    scopes: tuple[RecordScope, ...]


@dataclass(frozen=True, slots=True)
class DecisionPlan:
    """The customer-independent facts of a query, for compiling rules 1-6 to a set-based query."""

    query: SupplierQuery
    purpose_declared: bool
    consent_floor_version: int
    gpc_applies: bool
    # Rule 4d: only grants whose supplier scope is the supplier itself count.
    grant_must_name_supplier: bool
    categories: tuple[CategoryPlan, ...]


def plan(query: SupplierQuery, policy: PolicyInForce) -> DecisionPlan:
    """Describe `query` under `policy` for the set-based (SQL) form of `decide()`."""
    if policy.policy.supplier_id != query.supplier_id:
        raise InvalidRecord("the policy in force is not the requesting supplier's")
    supplier = query.supplier_id
    return DecisionPlan(
        query=query,
        purpose_declared=query.purpose in policy.policy.purposes,
        consent_floor_version=policy.consent_floor_version,
        gpc_applies=gpc_applies(query.purpose),
        grant_must_name_supplier=query.release_kind is ReleaseKind.IDENTITY_RELEASE,
        categories=tuple(
            CategoryPlan(
                category=c,
                declared=c in policy.policy.categories,
                default_permits=default_permits(c, query.purpose, query.release_kind),
                grant_must_name_category=c in SENSITIVE_CATEGORIES,
                scopes=(
                    RecordScope(supplier, c, 2),
                    RecordScope(supplier, ALL_CATEGORIES, 1),
                    RecordScope(ALL_SUPPLIERS, c, 1),
                    RecordScope(ALL_SUPPLIERS, ALL_CATEGORIES, 0),
                ),
            )
            for c in query.ordered_categories
        ),
    )


def record_matters(record: ConsentRecord, query: SupplierQuery) -> bool:
    """True when `record` can influence a decision of `query` (for the customer it belongs to)."""
    return (
        record.purpose is query.purpose
        and (record.supplier is ALL_SUPPLIERS or record.supplier == query.supplier_id)
        and (record.category is ALL_CATEGORIES or record.category in query.categories)
    )


def term_matters(term: StandingTerm, query: SupplierQuery) -> bool:
    """True when `term` can influence a decision of `query`."""
    match term:
        case NeverCategory(_, category):
            return category in query.categories
        case NeverPurpose(_, purpose):
            return purpose is query.purpose
        case OnlyUnstruckSuppliers():
            return query.supplier_strikes > 0
        case MinPrice(_, credits, category):
            # Any positive floor on an asked category matters: even when the offer meets it, it
            # sets the price the customer asks (and the broker pays).
            return credits > 0 and (category is None or category in query.categories)
