"""`evaluate_many` (batched loads, used by slices) decides exactly as `evaluate` does customer by customer:
random populations stored in the database, random queries, equal decisions, reasons and records included."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consent.decision import SupplierQuery
from consent.policy import PolicyInForce
from consent.vocabulary import Category, Purpose, ReleaseKind
from infomediary.consents import repository
from infomediary.consents.decision_point import evaluate, evaluate_many
from infomediary.consents.models import SupplierPolicyRow
from infomediary.runtime import Runtime
from tests.consents.test_set_filter import (
    NOW,
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
        ids = sorted(people)
        for query in asked:
            one_by_one = {cid: evaluate(session, cid, query) for cid in ids}
            assert evaluate_many(session, ids, query) == one_by_one, query
        session.rollback()


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
