"""Counting through the service: consent gating, suppression, budget, cache, strikes and the release log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from pydantic import TypeAdapter
from sqlalchemy import func, select

from api.deps import keep_only_the_record
from consent.vocabulary import Purpose
from infomediary.audiences import service
from infomediary.audiences.errors import BudgetExhausted, DifferencingRefused
from infomediary.audiences.models import AudienceAnswerRow, AudienceIndexRow
from infomediary.audiences.predicate import Predicate, canonical
from infomediary.database import unit_of_work
from infomediary.errors import DomainError
from infomediary.flows import restriction_changed
from infomediary.policylog.models import PolicyLogEntry
from infomediary.privacy_loss.models import PrivacyLossTally, PrivacyReleaseRow
from infomediary.runtime import Runtime
from infomediary.sanctions.models import SupplierSanction
from tests.audiences.predicates import PREDICATES, Person, holds
from tests.fixtures.audiences import audience_runtime, exact, indexed_customers, supplier_with_policy

PARSE: TypeAdapter[Any] = TypeAdapter(Predicate)
E = TypeVar("E", bound=DomainError)
FEMALE_PARIS = {"and": [{"eq": ["gender", "female"]}, {"eq": ["postal_prefix", "75"]}]}


def count(runtime: Runtime, supplier_id: str, raw: Any, purpose: Purpose = Purpose.MARKETING) -> Any:
    with unit_of_work(runtime.session_factory) as session:
        return service.count_audience(session, runtime, supplier_id, PARSE.validate_python(raw), purpose)


def strikes(runtime: Runtime, supplier_id: str) -> list[SupplierSanction]:
    with runtime.read_session_factory() as session:
        rows = session.scalars(select(SupplierSanction).where(SupplierSanction.supplier_id == supplier_id))
        return list(rows)


def _counted_or_refused(runtime: Runtime, supplier_id: str, raw: Any, refusal: type[E]) -> E | None:
    """Count and commit; on a `refusal`, keep only its record (a strike), as the request's session does,
    and return it."""
    with runtime.session_factory() as session:
        try:
            service.count_audience(
                session, runtime, supplier_id, PARSE.validate_python(raw), Purpose.MARKETING
            )
        except refusal as exc:
            keep_only_the_record(session, exc.record)
            session.commit()
            return exc
        session.commit()
    return None


def refused(runtime: Runtime, supplier_id: str, raw: Any) -> BudgetExhausted:
    """Count expecting the budget's refusal."""
    exc = _counted_or_refused(runtime, supplier_id, raw, BudgetExhausted)
    if exc is None:
        raise AssertionError("the count was answered")
    return exc


def test_counts_only_matching_indexed_customers(runtime: Runtime) -> None:
    indexed_customers(runtime, 4)
    indexed_customers(runtime, 2, gender="male")
    indexed_customers(runtime, 3, postal_code="69001", birth_date="1950-01-01")
    supplier = supplier_with_policy(runtime)
    with exact(runtime) as rt:
        assert count(rt, supplier, FEMALE_PARIS).count == 4
        assert count(rt, supplier, {"eq": ["age_band", "65+"]}).count == 3
        assert count(rt, supplier, {"not": {"eq": ["gender", "male"]}}).count == 7
        assert count(rt, supplier, {"eq": ["interest", "cycling"]}).count == 9


def test_restriction_removes_the_customer_before_the_next_count(runtime: Runtime) -> None:
    first, *_ = indexed_customers(runtime, 3)
    supplier = supplier_with_policy(runtime)
    with exact(runtime) as rt:
        assert count(rt, supplier, FEMALE_PARIS).count == 3
        with unit_of_work(rt.session_factory) as session:
            restriction_changed.restrict(session, first)
        again = count(rt, supplier, FEMALE_PARIS)
        # The same query again, yet not the cached answer: it counted a customer who has left.
        assert again.count == 2 and again.cached is False


def test_small_audiences_are_suppressed_and_logged_as_zero(runtime: Runtime) -> None:
    indexed_customers(runtime, 5)
    supplier = supplier_with_policy(runtime)
    answer = count(runtime, supplier, FEMALE_PARIS)
    assert answer.count is None and answer.suppressed and answer.minimum_cohort == 50
    with runtime.read_session_factory() as session:
        [entry] = session.scalars(select(PolicyLogEntry).where(PolicyLogEntry.kind == "release")).all()
    cost = round(runtime.settings.audience_epsilon * 1000)
    assert entry.release_count == 0 and entry.epsilon_milli == cost and entry.supplier_id == supplier


def test_fresh_answers_are_noisy_around_the_truth(runtime: Runtime) -> None:
    indexed_customers(runtime, 20)
    answers = []
    # Epsilon 0.5 (noise sd about 2.8, so the mean of 12 draws is within 4 of the truth but once in some
    # 10^6 runs); at the default 0.2 the same bound fails one run in twenty.
    with audience_runtime(runtime, audience_min_cohort=0, audience_epsilon=0.5) as rt:
        for _ in range(12):
            answers.append(count(rt, supplier_with_policy(rt), FEMALE_PARIS).count)
    assert len(set(answers)) > 1
    assert abs(sum(answers) / len(answers) - 20) < 4


def test_repeats_are_cached_and_free_and_the_log_never_holds_the_true_count(runtime: Runtime) -> None:
    indexed_customers(runtime, 30)
    supplier = supplier_with_policy(runtime)
    with audience_runtime(runtime, audience_min_cohort=0) as rt:
        first = count(rt, supplier, FEMALE_PARIS)
        respelled = {"and": [{"in": ["postal_prefix", ["75"]]}, {"in": ["gender", ["female"]]}]}
        repeats = [count(rt, supplier, FEMALE_PARIS) for _ in range(5)] + [count(rt, supplier, respelled)]
    assert first.cached is False and first.epsilon_charged == rt.settings.audience_epsilon
    assert all(r.cached and r.count == first.count and r.epsilon_charged == 0 for r in repeats)
    assert {r.epsilon_remaining for r in repeats} == {first.epsilon_remaining}
    with runtime.read_session_factory() as session:
        logged = session.scalars(
            select(PolicyLogEntry).where(PolicyLogEntry.kind == "release").order_by(PolicyLogEntry.leaf_index)
        ).all()
    assert [e.release_count for e in logged] == [first.count] * 7
    assert [e.epsilon_milli for e in logged] == [round(rt.settings.audience_epsilon * 1000)] + [0] * 6


def test_an_exhausted_budget_refuses_without_a_strike(runtime: Runtime) -> None:
    indexed_customers(runtime, 3)
    supplier = supplier_with_policy(runtime)
    with audience_runtime(runtime, audience_epsilon=0.5, audience_epsilon_budget=1.0) as rt:
        count(rt, supplier, {"eq": ["gender", "female"]})
        count(rt, supplier, {"eq": ["gender", "male"]})
        first = refused(rt, supplier, {"eq": ["age_band", "25-34"]})
        refused(rt, supplier, {"eq": ["age_band", "35-44"]})
        assert first.status == 429 and int(first.headers["Retry-After"]) > 0
        assert first.extensions["resets_at"].endswith("Z") and first.record is None
        assert first.headers["Epsilon-Remaining"] == "0.000"
        # The cached answer stays available: it spends nothing.
        assert count(rt, supplier, {"eq": ["gender", "female"]}).cached
    # Reaching the limit is what a budget is for: refused, never struck.
    assert strikes(runtime, supplier) == []


def differenced(runtime: Runtime, supplier_id: str, raw: Any) -> DifferencingRefused | None:
    """Count; the differencing refusal if there was one."""
    return _counted_or_refused(runtime, supplier_id, raw, DifferencingRefused)


def stored_answers(runtime: Runtime, supplier_id: str) -> int:
    with runtime.read_session_factory() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(AudienceAnswerRow)
                .where(AudienceAnswerRow.supplier_id == supplier_id)
            )
            or 0
        )


# Negligible noise and an ample budget, k = 4 and the differencing check on.
DIFFERENCING = {
    "audience_min_cohort": 4,
    "audience_epsilon": 100.0,
    "audience_epsilon_budget": 100_000.0,
    "audience_differencing_window": 32,
}


@pytest.mark.parametrize(
    "second",
    [
        # One condition added: the single 65+ customer of Paris is subtracted.
        {"and": [*FEMALE_PARIS["and"], {"not": {"eq": ["age_band", "65+"]}}]},
        # The same, padded so that no top-level condition is shared with the first query.
        {
            "or": [
                {"and": [*FEMALE_PARIS["and"], {"eq": ["age_band", "35-44"]}]},
                {
                    "and": [
                        {"eq": ["gender", "female"]},
                        {"eq": ["interest", "running"]},
                        {"not": {"eq": ["gender", "female"]}},
                    ]
                },
            ]
        },
        # Or one customer added through an alternative that only she matches.
        {"or": [FEMALE_PARIS, {"eq": ["age_band", "18-24"]}]},
    ],
)
def test_queries_whose_customers_differ_by_fewer_than_k_are_refused_and_struck(
    runtime: Runtime, second: Any
) -> None:
    indexed_customers(runtime, 5)  # female, Paris, 35-44
    indexed_customers(runtime, 1, birth_date="1950-01-01")  # female, Paris, 65+
    indexed_customers(runtime, 1, postal_code="69001", birth_date="2005-01-01")  # female, Lyon, 18-24
    supplier = supplier_with_policy(runtime)
    with audience_runtime(runtime, **DIFFERENCING) as rt:
        assert differenced(rt, supplier, FEMALE_PARIS) is None
        refusal = differenced(rt, supplier, second)
    assert refusal is not None and refusal.status == 403 and refusal.slug == "differencing-refused"
    # Nothing of the refused count is kept: one stored answer (the first), and one strike, the system's.
    assert stored_answers(runtime, supplier) == 1
    [strike] = strikes(runtime, supplier)
    assert "differencing" in strike.reason and strike.auditor_id is None
    with runtime.read_session_factory() as session:
        logged = session.scalars(
            select(PolicyLogEntry.supplier_id).where(PolicyLogEntry.kind == "sanction.recorded")
        ).all()
    assert logged == [supplier]


def test_queries_differing_by_k_or_more_or_by_nobody_are_answered(runtime: Runtime) -> None:
    indexed_customers(runtime, 5)  # female, Paris, 35-44
    indexed_customers(runtime, 4, birth_date="1950-01-01")  # female, Paris, 65+
    supplier = supplier_with_policy(runtime)
    with audience_runtime(runtime, **DIFFERENCING) as rt:
        assert differenced(rt, supplier, FEMALE_PARIS) is None
        # Four fewer: as many as k, so the difference is itself an answer k would allow.
        assert (
            differenced(rt, supplier, {"and": [*FEMALE_PARIS["and"], {"eq": ["age_band", "35-44"]}]}) is None
        )
        # The same customers spelled another way: nothing is isolated.
        assert (
            differenced(rt, supplier, {"and": [*FEMALE_PARIS["and"], {"not": {"eq": ["age_band", "18-24"]}}]})
            is None
        )
    assert strikes(runtime, supplier) == []
    assert stored_answers(runtime, supplier) == 3


def test_the_window_off_lets_a_differencing_pair_through(runtime: Runtime) -> None:
    indexed_customers(runtime, 5)
    indexed_customers(runtime, 1, birth_date="1950-01-01")
    supplier = supplier_with_policy(runtime)
    with audience_runtime(runtime, **{**DIFFERENCING, "audience_differencing_window": 0}) as rt:
        assert differenced(rt, supplier, FEMALE_PARIS) is None
        assert (
            differenced(rt, supplier, {"and": [*FEMALE_PARIS["and"], {"eq": ["age_band", "35-44"]}]}) is None
        )
    assert strikes(runtime, supplier) == []


# --- or, multi-valued in, negation -------------------------------------------------------------------------


def mixed_population(runtime: Runtime) -> None:
    """Twelve customers; the comments give each group's index values (age bands as of 2026)."""
    indexed_customers(runtime, 4)  # female, 75, 35-44, cycling
    indexed_customers(runtime, 2, gender="male", interests=["cycling", "cooking"])  # male, 75
    indexed_customers(runtime, 3, postal_code="69001", birth_date="1950-01-01", interests=["cooking"])
    indexed_customers(runtime, 1, gender="non_binary", postal_code="10115", interests=[])
    # No gender given: unknown, which matches no value and so matches every negated one.
    indexed_customers(runtime, 2, gender=None, postal_code="13001", interests=["running"])


@pytest.mark.parametrize(
    ("predicate", "expected"),
    [
        # or: customers matching either side, counted once when they match both.
        ({"or": [{"eq": ["postal_prefix", "69"]}, {"eq": ["gender", "male"]}]}, 5),
        ({"or": [{"eq": ["gender", "female"]}, {"eq": ["postal_prefix", "75"]}]}, 9),
        ({"or": [{"eq": ["interest", "running"]}, {"eq": ["interest", "cooking"]}]}, 7),
        # in with several values: any of them.
        ({"in": ["gender", ["male", "non_binary"]]}, 3),
        ({"in": ["postal_prefix", ["69", "10", "99"]]}, 4),
        ({"in": ["interest", ["cooking", "running"]]}, 7),  # the two who like both are counted once
        ({"in": ["age_band", ["35-44", "65+"]]}, 12),
        # not of an interest: everyone without it, including those with no interests at all.
        ({"not": {"eq": ["interest", "cycling"]}}, 6),
        ({"not": {"in": ["interest", ["cycling", "cooking"]]}}, 3),
        ({"and": [{"eq": ["postal_prefix", "75"]}, {"not": {"eq": ["interest", "cooking"]}}]}, 4),
        # not of a value: the unknown gender is counted in.
        ({"not": {"eq": ["gender", "female"]}}, 5),
        ({"not": {"in": ["gender", ["female", "male"]]}}, 3),
        # negation over or and and (De Morgan), with interests on one side.
        ({"not": {"or": [{"eq": ["gender", "female"]}, {"eq": ["interest", "cooking"]}]}}, 3),
        ({"not": {"and": [{"eq": ["gender", "female"]}, {"eq": ["interest", "cycling"]}]}}, 8),
        ({"or": [{"not": {"eq": ["interest", "cycling"]}}, {"eq": ["gender", "male"]}]}, 8),
    ],
)
def test_counts_with_or_multi_valued_in_and_negation(runtime: Runtime, predicate: Any, expected: int) -> None:
    mixed_population(runtime)
    supplier = supplier_with_policy(runtime)
    with exact(runtime) as rt:
        assert count(rt, supplier, predicate).count == expected


# The mixed population as the index sees it: (count, gender, postal prefix, age band, interests).
POPULATION = [
    Person(4, "female", "75", "35-44", frozenset({"cycling"})),
    Person(2, "male", "75", "35-44", frozenset({"cycling", "cooking"})),
    Person(3, "female", "69", "65+", frozenset({"cooking"})),
    Person(1, "non_binary", "10", "35-44", frozenset()),
    Person(2, None, "13", "35-44", frozenset({"running"})),
]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(predicate=PREDICATES)
def test_counts_of_random_predicates_agree_with_reading_the_predicate_literally(
    runtime: Runtime, predicate: Any
) -> None:
    with runtime.read_session_factory() as session:
        empty = session.scalar(select(func.count()).select_from(AudienceIndexRow)) == 0
    if empty:  # the database is emptied per test, not per example
        mixed_population(runtime)
    supplier = supplier_with_policy(runtime)
    expected = sum(group.count for group in POPULATION if holds(predicate, group))
    with exact(runtime) as rt:
        assert count(rt, supplier, predicate).count == expected


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=PREDICATES, second=PREDICATES)
def test_a_count_is_refused_exactly_when_its_customers_differ_from_a_recent_one_by_1_to_k_minus_1(
    runtime: Runtime, first: Any, second: Any
) -> None:
    """Whatever the predicates look like: the refusal follows the sets, read literally in Python."""
    with runtime.read_session_factory() as session:
        empty = session.scalar(select(func.count()).select_from(AudienceIndexRow)) == 0
    if empty:  # the database is emptied per test, not per example
        mixed_population(runtime)
    supplier = supplier_with_policy(runtime)
    members = [(i, g) for i, g in enumerate(POPULATION) for _ in range(g.count)]
    matched_first = {i for i, g in members if holds(first, g)}
    difference = sum(g.count for g in POPULATION if holds(first, g) != holds(second, g))
    same_query = canonical(PARSE.validate_python(first)) == canonical(PARSE.validate_python(second))
    k = DIFFERENCING["audience_min_cohort"]
    with audience_runtime(runtime, **DIFFERENCING) as rt:
        assert differenced(rt, supplier, first) is None, matched_first
        refusal = differenced(rt, supplier, second)
    assert (refusal is not None) == (not same_query and 1 <= difference < k)


def test_a_new_period_drops_what_earlier_periods_kept(runtime: Runtime) -> None:
    """Stored answers (with their sets of customers) and the privacy-loss tally and releases are per period:
    the first spend of a new period drops the earlier ones instead of keeping them for ever."""
    indexed_customers(runtime, 3)
    supplier = supplier_with_policy(runtime)
    with exact(runtime) as rt:
        period = rt.settings.audience_budget_period_seconds
        now = datetime.now(UTC)
        with unit_of_work(rt.session_factory) as session:
            service.count_audience(
                session, rt, supplier, PARSE.validate_python(FEMALE_PARIS), Purpose.MARKETING, now=now
            )
        kept = {table: _rows(rt, table) for table in (AudienceAnswerRow, PrivacyReleaseRow, PrivacyLossTally)}
        assert all(n == 1 for n in kept.values()), kept
        later = now + timedelta(seconds=period)
        with unit_of_work(rt.session_factory) as session:
            service.count_audience(
                session,
                rt,
                supplier,
                PARSE.validate_python({"eq": ["gender", "female"]}),
                Purpose.MARKETING,
                now=later,
            )
        assert {table: _rows(rt, table) for table in kept} == {table: 1 for table in kept}
        with rt.read_session_factory() as session:
            assert session.scalar(select(AudienceAnswerRow.period_start)) > now - timedelta(seconds=1)


def _rows(runtime: Runtime, table: Any) -> int:
    with runtime.read_session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)
