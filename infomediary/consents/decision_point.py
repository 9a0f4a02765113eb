"""The decision point as the broker calls it: load one customer's consents, terms and context, decide, log.

`decide_for` is the only function that answers "may this supplier use this customer's data" for one
customer; it appends the decision to the policy log in the caller's transaction, so a release and its
decision commit or roll back together (non-negotiable 2). The set-based form for many customers at once
is `set_filter.permitted_customers`; `evaluate_many` decides for many customers with batched loads, and
`evaluate_grid` for one customer, many suppliers and every purpose (what each supplier may do now).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from consent.decision import Decision, DecisionRequest, SupplierQuery, decide
from consent.policy import PolicyInForce
from consent.records import ConsentPortfolio
from consent.vocabulary import Category, Purpose, ReleaseKind
from infomediary.consents import repository
from infomediary.consents.context import customer_context, customer_contexts
from infomediary.consents.entries import decision_entry
from infomediary.database import WriteSession, utcnow
from infomediary.policylog.service import append as log_append
from infomediary.runtime import Runtime
from infomediary.sanctions import repository as sanctions_repository


def supplier_query(
    session: Session,
    *,
    supplier_id: str,
    purpose: Purpose,
    categories: Iterable[Category],
    release_kind: ReleaseKind,
    offered_price: int = 0,
    now: datetime | None = None,
) -> SupplierQuery:
    """A query with the supplier's strikes read from storage (so no caller can forget or fake them)."""
    return SupplierQuery(
        supplier_id=supplier_id,
        purpose=purpose,
        categories=frozenset(categories),
        release_kind=release_kind,
        now=now or utcnow(),
        supplier_strikes=sanctions_repository.strike_count(session, supplier_id),
        offered_price=offered_price,
    )


def decide_for(session: WriteSession, runtime: Runtime, customer_id: str, query: SupplierQuery) -> Decision:
    """Decide `query` for one customer and log the decision in the same transaction."""
    decision = evaluate(session, customer_id, query)
    log_append(session, decision_entry(runtime, customer_id, query, decision))
    return decision


def decide_each_with_entries(
    session: Session,
    runtime: Runtime,
    customer_id: str,
    query: SupplierQuery,
    categories: Iterable[Category],
) -> tuple[dict[Category, Decision], list[dict[str, Any]]]:
    """`query` decided separately for each category (one decision and entry each), the customer's consents,
    terms and the supplier's policy read once, for callers that use whichever categories are permitted.

    Nothing is appended: the caller appends these entries together with its release entry in one
    `append_many` (one log lock, one bulk insert per request), in this transaction, before it uses any
    decision, on every path (a refusal included); or, for the customer's own preview, drops them."""
    context = customer_context(session, customer_id, query.now)
    portfolio = repository.load_portfolio(
        session, customer_id, supplier_id=query.supplier_id, purpose=query.purpose
    )
    terms = repository.load_terms(session, customer_id)
    policy = repository.policy_in_force(session, query.supplier_id, query.now)
    out: dict[Category, Decision] = {}
    entries = []
    for category in dict.fromkeys(categories):
        one = replace(query, categories=frozenset({category}))
        out[category] = decide(DecisionRequest(context, one), portfolio, terms, policy)
        entries.append(decision_entry(runtime, customer_id, one, out[category]))
    return out, entries


def evaluate(session: Session, customer_id: str, query: SupplierQuery) -> Decision:
    """The decision without logging it: for previews the customer asks for, never for a release."""
    context = customer_context(session, customer_id, query.now)
    portfolio = repository.load_portfolio(
        session, customer_id, supplier_id=query.supplier_id, purpose=query.purpose
    )
    terms = repository.load_terms(session, customer_id)
    policy = repository.policy_in_force(session, query.supplier_id, query.now)
    return decide(DecisionRequest(context, query), portfolio, terms, policy)


def evaluate_each(session: Session, customer_id: str, queries: Sequence[SupplierQuery]) -> list[Decision]:
    """`evaluate` of several queries for one customer (the open offers tested at an inbox read), nothing
    logged: the customer's context and terms read once, consents once per supplier and purpose, a policy
    once per supplier. All queries must share one `now`."""
    if not queries:
        return []
    now = queries[0].now
    if any(q.now != now for q in queries):
        raise ValueError("evaluate_each needs one `now` for all its queries")
    context = customer_context(session, customer_id, now)
    terms = repository.load_terms(session, customer_id)
    portfolios: dict[tuple[str, Purpose], ConsentPortfolio] = {}
    policies: dict[str, PolicyInForce] = {}
    decisions = []
    for query in queries:
        key = (query.supplier_id, query.purpose)
        if key not in portfolios:
            portfolios[key] = repository.load_portfolio(
                session, customer_id, supplier_id=query.supplier_id, purpose=query.purpose
            )
        if query.supplier_id not in policies:
            policies[query.supplier_id] = repository.policy_in_force(session, query.supplier_id, now)
        request = DecisionRequest(context, query)
        decisions.append(decide(request, portfolios[key], terms, policies[query.supplier_id]))
    return decisions


def evaluate_many(session: Session, customer_ids: Sequence[str], query: SupplierQuery) -> dict[str, Decision]:
    """`evaluate` for many customers: the same loads done a few queries for all, then `decide()` for each.

    For releases that log one decision per customer (slices): per-customer loads cost four queries each.
    """
    contexts = customer_contexts(session, customer_ids, query.now)
    portfolios = repository.load_portfolios(
        session, customer_ids, supplier_id=query.supplier_id, purpose=query.purpose
    )
    terms = repository.load_terms_many(session, customer_ids)
    policy = repository.policy_in_force(session, query.supplier_id, query.now)
    return {
        cid: decide(DecisionRequest(contexts[cid], query), portfolios[cid], terms[cid], policy)
        for cid in customer_ids
    }


def evaluate_grid(
    session: Session,
    customer_id: str,
    supplier_ids: Sequence[str],
    purposes: Iterable[Purpose],
    categories: Iterable[Category],
    *,
    release_kind: ReleaseKind,
    now: datetime,
) -> dict[tuple[str, Purpose], Decision]:
    """`evaluate` of every (supplier, purpose) for one customer, nothing logged: her own preview of what each
    supplier may do now. Each decision asks for all `categories`; `decide()` decides every category on its
    own, so its `outcomes` are the cells of one row of the grid, each what a query for that category alone
    gets. Her context, terms and the records that can match these suppliers are read once; the suppliers'
    policies and strikes in one query each."""
    asked = frozenset(categories)
    rows = tuple(purposes)
    context = customer_context(session, customer_id, now)
    portfolio = repository.load_portfolio_for_suppliers(session, customer_id, supplier_ids)
    terms = repository.load_terms(session, customer_id)
    policies = repository.policies_in_force(session, supplier_ids, now)
    strikes = sanctions_repository.strike_counts(session, supplier_ids)
    out: dict[tuple[str, Purpose], Decision] = {}
    for supplier_id in supplier_ids:
        for purpose in rows:
            query = SupplierQuery(
                supplier_id=supplier_id,
                purpose=purpose,
                categories=asked,
                release_kind=release_kind,
                now=now,
                supplier_strikes=strikes[supplier_id],
            )
            request = DecisionRequest(context, query)
            out[(supplier_id, purpose)] = decide(request, portfolio, terms, policies[supplier_id])
    return out
