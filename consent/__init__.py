"""Consent engine: vocabulary, records, the decision point and receipts. Knows nothing of HTTP or encryption.

Pure standard-library Python. The modules, one concept each:

* `vocabulary` data categories (with sensitivity), DPV purposes, release kinds, consumer labels
* `records`    consent records, DPV states, the event history and state machine, `ConsentPortfolio`
* `terms`      the customer's standing terms
* `policy`     versioned supplier policies, widening and the consent floor, undeclared use
* `decision`   `decide()`, the single decision point
* `plan`       the same rules in set form: the customer-independent description the broker compiles to SQL
* `receipts`   Kantara v1.1 consent receipts (unsigned)
* `errors`     the error types

The most used names are re-exported here.
"""

from consent.decision import (
    CategoryOutcome,
    CustomerContext,
    Decision,
    DecisionRequest,
    Reason,
    SupplierQuery,
    decide,
    default_permits,
)
from consent.errors import ConsentError, InvalidTransition
from consent.policy import PolicyInForce, SupplierPolicy
from consent.records import (
    ALL_CATEGORIES,
    ALL_SUPPLIERS,
    ConsentEvent,
    ConsentPortfolio,
    ConsentRecord,
    ConsentState,
    transition,
)
from consent.terms import StandingTerms
from consent.vocabulary import Category, Purpose, ReleaseKind, Sensitivity

__all__ = [
    "ALL_CATEGORIES",
    "ALL_SUPPLIERS",
    "Category",
    "CategoryOutcome",
    "ConsentError",
    "ConsentEvent",
    "ConsentPortfolio",
    "ConsentRecord",
    "ConsentState",
    "CustomerContext",
    "Decision",
    "DecisionRequest",
    "InvalidTransition",
    "PolicyInForce",
    "Purpose",
    "Reason",
    "ReleaseKind",
    "Sensitivity",
    "StandingTerms",
    "SupplierPolicy",
    "SupplierQuery",
    "decide",
    "default_permits",
    "transition",
]
