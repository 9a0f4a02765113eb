"""`evaluate_many` (batched loads, used by slices) decides exactly as `evaluate` does customer by customer,
and `evaluate_each` (one customer, many queries: late offer matching) exactly as `evaluate` query by query:
random populations stored in the database, random queries, equal decisions, reasons and records included."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from consent.decision import SupplierQuery
from consent.policy import PolicyInForce
from consent.vocabulary import Category, Purpose, ReleaseKind
from infomediary.consents import repository
from infomediary.consents.decision_point import evaluate, evaluate_each, evaluate_many
from infomediary.consents.models import SupplierPolicyRow
from infomediary.runtime import Runtime
from tests.consents.test_set_filter import (
    NOW,
    OTHER,
    PURPOSES,
    SUPPLIER,
    Customer_,
    policies,
    population,
    queries,
    store_population,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(people=population(), policy=policies(), asked=st.lists(queries(), min_size=1, max_size=4))
def test_batched_decisions_equal_one_by_one_decisions(
    runtime: Runtime, people: dict[str, Customer_], policy: PolicyInForce, asked: list[SupplierQuery]
) -> None:
    with runtime.session_factory() as session:
        _store(session, people, policy)
        ids = sorted(people)
        for query in asked:
            one_by_one = {cid: evaluate(session, cid, query) for cid in ids}
            assert evaluate_many(session, ids, query) == one_by_one, query
        session.rollback()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    people=population(),
    policy=policies(),
    asked=st.lists(st.tuples(queries(), st.booleans()), min_size=1, max_size=5),
)
def test_one_customers_decisions_for_many_queries_equal_one_by_one_decisions(
    runtime: Runtime,
    people: dict[str, Customer_],
    policy: PolicyInForce,
    asked: list[tuple[SupplierQuery, bool]],
) -> None:
    # Some queries come from a second supplier that published no policy: consents and policy are read
    # per supplier, and a cached one must never answer for the other.
    mixed = [replace(query, supplier_id=OTHER) if other else query for query, other in asked]
    # And every purpose for the first query's supplier: consents are read per purpose too.
    mixed += [replace(mixed[0], purpose=purpose) for purpose in PURPOSES]
    with runtime.session_factory() as session:
        _store(session, people, policy)
        for cid in sorted(people):
            assert evaluate_each(session, cid, mixed) == [evaluate(session, cid, q) for q in mixed], cid
        session.rollback()


def test_decisions_for_many_queries_need_one_now(runtime: Runtime) -> None:
    first = SupplierQuery(
        SUPPLIER, Purpose.MARKETING, frozenset({Category.INTERESTS}), ReleaseKind.OFFER_DELIVERY, NOW
    )
    later = replace(first, now=NOW.replace(year=NOW.year + 1))
    with runtime.session_factory() as session, pytest.raises(ValueError, match="one `now`"):
        evaluate_each(session, "cus_any", [first, later])
    with runtime.read_session_factory() as reader:
        assert evaluate_each(reader, "cus_any", []) == []


def _store(session: Session, people: dict[str, Customer_], policy: PolicyInForce) -> None:
    """The population, and the query supplier's policy in force (the other supplier publishes none)."""
    store_population(session, people)
    session.add(
        SupplierPolicyRow(
            supplier_id=SUPPLIER,
            version=policy.policy.version,
            purposes=sorted(p.value for p in policy.policy.purposes),
            categories=sorted(c.value for c in policy.policy.categories),
            consent_floor_version=policy.consent_floor_version,
            published_at=NOW,
        )
    )
    session.flush()


def test_many_customers_span_several_chunks(runtime: Runtime) -> None:
    """More customers than one IN list holds: everyone is decided, the unknown ones denied like `evaluate`."""
    ids = [f"cus_chunk{i}" for i in range(repository.MANY_CHUNK + 7)]
    query = SupplierQuery(
        SUPPLIER, Purpose.MARKETING, frozenset({Category.INTERESTS}), ReleaseKind.PSEUDONYMOUS_SLICE, NOW
    )
    with runtime.session_factory() as session:
        decided = evaluate_many(session, ids, query)
        assert set(decided) == set(ids)
        assert decided[ids[-1]] == evaluate(session, ids[-1], query)
        session.rollback()
