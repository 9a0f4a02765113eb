"""What each supplier may do now: the grid equals the decision, cell by cell. Random consents, terms, GPC
signals, restrictions, policies and strikes stored in the database; every cell of every supplier's grid is
what `decide()` answers a query for that one purpose and that one kind of data, and what the decision point
itself (`evaluate`, the path of every release) answers for a sample of them. And the one-click switch turns
cells round through the consent service."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from consent.decision import CustomerContext, DecisionRequest, Reason, SupplierQuery, decide
from consent.policy import PolicyInForce, SupplierPolicy
from consent.records import ConsentPortfolio, ConsentState
from consent.terms import StandingTerms
from consent.vocabulary import Category, Purpose, ReleaseKind
from infomediary.consents import effective, service
from infomediary.consents.decision_point import evaluate, supplier_query
from infomediary.consents.effective import GRID_RELEASE_KIND, Switch
from infomediary.consents.models import ConsentRecordRow, SupplierPolicyRow
from infomediary.database import WriteSession, utcnow
from infomediary.flows.consent_changed import records_left
from infomediary.runtime import Runtime
from infomediary.sanctions.models import SanctionKind, SupplierSanction
from infomediary.suppliers.models import Supplier
from tests.consents.test_set_filter import (
    NOW,
    OTHER,
    SUPPLIER,
    Customer_,
    policies,
    population,
    store_population,
)

SUPPLIERS = (SUPPLIER, OTHER)
PURPOSE_LIST, CATEGORY_LIST = list(Purpose), list(Category)


def _grids(session: Session, customer_id: str) -> dict[str, effective.SupplierGrid]:
    """Every page, one supplier per page: the cursor is exercised on the way."""
    found: dict[str, effective.SupplierGrid] = {}
    cursor = None
    for _ in range(50):
        view = effective.effective_consents(session, customer_id, cursor=cursor, limit=1, now=NOW)
        found.update((grid.supplier.id, grid) for grid in view.suppliers)
        cursor = view.next_cursor
        if cursor is None:
            return found
    raise AssertionError("the cursor never ended")


def _store(session: Session, policy: dict[str, PolicyInForce | None], strikes: dict[str, int]) -> None:
    for supplier_id, in_force in policy.items():
        if in_force is not None:
            session.add(
                SupplierPolicyRow(
                    supplier_id=supplier_id,
                    version=in_force.policy.version,
                    purposes=sorted(p.value for p in in_force.policy.purposes),
                    categories=sorted(c.value for c in in_force.policy.categories),
                    consent_floor_version=in_force.consent_floor_version,
                    published_at=NOW - timedelta(days=10),
                )
            )
        for index in range(strikes[supplier_id]):
            session.add(
                SupplierSanction(
                    id=f"san_{supplier_id}_{index}",
                    supplier_id=supplier_id,
                    kind=SanctionKind.STRIKE.value,
                    reason="test",
                    leaf_index=0,
                )
            )
    session.flush()


def _expected(
    person: Customer_,
    customer_id: str,
    supplier_id: str,
    policy: PolicyInForce | None,
    strikes: int,
    purpose: Purpose,
    category: Category,
) -> tuple[bool, Reason, int, tuple[str, ...], tuple[str, ...]]:
    """`decide()` for this one cell, from the drawn values (not from storage)."""
    signal = person.gpc_at is not None and person.gpc_at <= NOW
    context = CustomerContext(
        customer_id,
        restricted=person.restricted,
        gpc=signal,
        gpc_recorded_at=person.gpc_at if signal else None,
    )
    in_force = policy or PolicyInForce(SupplierPolicy(supplier_id, 1, frozenset(), frozenset(), NOW), 1)
    query = SupplierQuery(
        supplier_id, purpose, frozenset({category}), GRID_RELEASE_KIND, NOW, supplier_strikes=strikes
    )
    decision = decide(
        DecisionRequest(context, query),
        ConsentPortfolio.of(customer_id, person.records),
        StandingTerms.of(customer_id, person.terms),
        in_force,
    )
    [outcome] = decision.outcomes
    return (outcome.permitted, outcome.reason, outcome.asked_price, outcome.record_ids, outcome.term_ids)


def _of(cell: effective.Cell) -> tuple[bool, Reason, int, tuple[str, ...], tuple[str, ...]]:
    return (cell.permitted, cell.reason, cell.asked_price, cell.record_ids, cell.term_ids)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    people=population(),
    policy=policies(),
    other_policy=st.one_of(st.none(), policies()),
    strikes=st.tuples(st.sampled_from([0, 0, 2]), st.sampled_from([0, 1])),
    sample=st.lists(
        st.tuples(
            st.sampled_from(SUPPLIERS), st.sampled_from(list(Purpose)), st.sampled_from(list(Category))
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_the_grid_is_the_decision_cell_by_cell(
    runtime: Runtime,
    people: dict[str, Customer_],
    policy: PolicyInForce,
    other_policy: PolicyInForce | None,
    strikes: tuple[int, int],
    sample: list[tuple[str, Purpose, Category]],
) -> None:
    policies_of: dict[str, PolicyInForce | None] = {
        SUPPLIER: policy,
        OTHER: None
        if other_policy is None
        else PolicyInForce(
            SupplierPolicy(OTHER, 2, other_policy.policy.purposes, other_policy.policy.categories, NOW), 1
        ),
    }
    strikes_of = dict(zip(SUPPLIERS, strikes, strict=True))
    with runtime.session_factory() as session:
        store_population(session, people)
        _store(session, policies_of, strikes_of)
        for customer_id, person in people.items():
            grids = _grids(session, customer_id)
            for supplier_id in SUPPLIERS:
                grid = grids[supplier_id]
                assert len(grid.cells) == len(Purpose) * len(Category)
                for (purpose, category), cell in grid.cells.items():
                    expected = _expected(
                        person,
                        customer_id,
                        supplier_id,
                        policies_of[supplier_id],
                        strikes_of[supplier_id],
                        purpose,
                        category,
                    )
                    assert _of(cell) == expected, (customer_id, supplier_id, purpose, category)
                    # A cell a consent cannot change is decided by a rule above consent.
                    assert (cell.switch is None) == (cell.reason in effective._ABOVE_CONSENT)
            # The decision point's own path (what a release calls) agrees on a sample of cells.
            for supplier_id, purpose, category in sample:
                query = supplier_query(
                    session,
                    supplier_id=supplier_id,
                    purpose=purpose,
                    categories=[category],
                    release_kind=ReleaseKind.PSEUDONYMOUS_SLICE,
                    now=NOW,
                )
                [outcome] = evaluate(session, customer_id, query).outcomes
                cell = grids[supplier_id].cell(purpose, category)
                assert _of(cell) == (
                    outcome.permitted,
                    outcome.reason,
                    outcome.asked_price,
                    outcome.record_ids,
                    outcome.term_ids,
                )
        session.rollback()


@settings(max_examples=30, deadline=None)
@given(people=population(), kind=st.sampled_from([ReleaseKind.AGGREGATE_COUNT, ReleaseKind.OFFER_DELIVERY]))
def test_the_grid_stands_for_counts_and_offers_too(people: dict[str, Customer_], kind: ReleaseKind) -> None:
    """The grid decides slices; counts and offers are decided alike, which is why one grid says it all."""
    policy = PolicyInForce(SupplierPolicy(SUPPLIER, 3, frozenset(Purpose), frozenset(Category), NOW), 1)
    for customer_id, person in people.items():
        signal = person.gpc_at is not None and person.gpc_at <= NOW
        context = CustomerContext(customer_id, person.restricted, signal, person.gpc_at if signal else None)
        portfolio = ConsentPortfolio.of(customer_id, person.records)
        terms = StandingTerms.of(customer_id, person.terms)
        for purpose in Purpose:
            answers = [
                decide(
                    DecisionRequest(
                        context, SupplierQuery(SUPPLIER, purpose, frozenset(Category), release, NOW)
                    ),
                    portfolio,
                    terms,
                    policy,
                ).outcomes
                for release in (GRID_RELEASE_KIND, kind)
            ]
            assert answers[0] == answers[1]


def _world(session: Session) -> tuple[str, str]:
    """A customer, and a supplier whose policy declares marketing and selling, ordinary data and health."""
    people = {"cus_switch": Customer_([], [], None, False)}
    store_population(session, people)
    session.add(
        SupplierPolicyRow(
            supplier_id=SUPPLIER,
            version=1,
            purposes=[Purpose.MARKETING.value, Purpose.SELL_DATA_TO_THIRD_PARTIES.value],
            categories=[Category.INTERESTS.value, Category.HEALTH.value],
            consent_floor_version=1,
            published_at=utcnow() - timedelta(days=1),
        )
    )
    session.flush()
    return "cus_switch", SUPPLIER


def _cell(session: Session, customer_id: str, purpose: Purpose, category: Category) -> effective.Cell:
    view = effective.effective_consents(session, customer_id, cursor=None, limit=50)
    [grid] = [g for g in view.suppliers if g.supplier.id == SUPPLIER]
    return grid.cell(purpose, category)


@pytest.mark.parametrize(
    ("purpose", "category", "before", "after"),
    [
        (Purpose.MARKETING, Category.INTERESTS, Reason.PERMITTED_BY_DEFAULT, Reason.CONSENT_REFUSED),
        (Purpose.MARKETING, Category.HEALTH, Reason.OPT_IN_REQUIRED, Reason.PERMITTED_BY_CONSENT),
        (
            Purpose.SELL_DATA_TO_THIRD_PARTIES,
            Category.INTERESTS,
            Reason.OPT_IN_REQUIRED,
            Reason.PERMITTED_BY_CONSENT,
        ),
    ],
)
def test_one_click_turns_a_cell_round_and_a_second_click_back(
    runtime: Runtime, purpose: Purpose, category: Category, before: Reason, after: Reason
) -> None:
    with runtime.session_factory() as session:
        customer_id, supplier_id = _world(session)
        cell = _cell(session, customer_id, purpose, category)
        assert cell.reason is before
        first = cell.switch
        assert first is not None
        done = effective.switch(
            session,
            runtime,
            customer_id,
            supplier_id=supplier_id,
            purpose=purpose,
            category=category,
            to=first,
            on_leaving=records_left,
        )
        assert done.changed and done.receipt_id
        turned = _cell(session, customer_id, purpose, category)
        assert turned.reason is after and turned.permitted is not cell.permitted
        back = turned.switch
        assert back is not None and back is not first
        effective.switch(
            session,
            runtime,
            customer_id,
            supplier_id=supplier_id,
            purpose=purpose,
            category=category,
            to=back,
            on_leaving=records_left,
        )
        again = _cell(session, customer_id, purpose, category)
        assert again.permitted is cell.permitted
        # A "no" after a yes withdraws that yes (the state machine has no refusal of a grant).
        states = set(
            session.scalars(select(ConsentRecordRow.state).where(ConsentRecordRow.customer_id == customer_id))
        )
        assert states <= {ConsentState.REFUSED.value, ConsentState.WITHDRAWN.value, ConsentState.GIVEN.value}
        session.rollback()


def test_a_second_no_changes_nothing(runtime: Runtime) -> None:
    with runtime.session_factory() as session:
        customer_id, supplier_id = _world(session)
        args = {
            "supplier_id": supplier_id,
            "purpose": Purpose.MARKETING,
            "category": Category.INTERESTS,
            "to": Switch.REFUSE,
            "on_leaving": records_left,
        }
        assert effective.switch(session, runtime, customer_id, **args).changed  # type: ignore[arg-type]
        assert not effective.switch(session, runtime, customer_id, **args).changed  # type: ignore[arg-type]
        session.rollback()


def test_every_supplier_is_listed_whatever_its_status(runtime: Runtime) -> None:
    with runtime.session_factory() as session:
        customer_id, _ = _world(session)
        for status in ("warned", "throttled", "suspended"):
            session.add(Supplier(id=f"sup_{status}", name=f"A {status} supplier", status=status))
        session.flush()
        view = effective.effective_consents(session, customer_id, cursor=None, limit=50)
        statuses = {g.supplier.id: g.supplier.status for g in view.suppliers}
        assert {statuses[f"sup_{s}"] for s in ("warned", "throttled", "suspended")} == {
            "warned",
            "throttled",
            "suspended",
        }
        # Without a policy, nothing is declared and every cell is no.
        grid = next(g for g in view.suppliers if g.supplier.id == "sup_warned")
        assert grid.policy_version is None and not any(c.permitted for c in grid.cells.values())
        session.rollback()


def _answer(
    session: WriteSession,
    runtime: Runtime,
    customer_id: str,
    category: Category | None,
    *,
    price: int,
    expires_at: datetime,
) -> None:
    service.answer(
        session,
        runtime,
        customer_id,
        state=ConsentState.GIVEN,
        supplier_id=SUPPLIER,
        purpose=Purpose.MARKETING,
        categories=[category],
        price=price,
        expires_at=expires_at,
        on_leaving=records_left,
    )


def _click(session: WriteSession, runtime: Runtime, customer_id: str, to: Switch, at: datetime) -> None:
    effective.switch(
        session,
        runtime,
        customer_id,
        supplier_id=SUPPLIER,
        purpose=Purpose.MARKETING,
        category=Category.HEALTH,
        to=to,
        on_leaving=records_left,
        now=at,
    )


def _health_row(session: Session, customer_id: str) -> ConsentRecordRow:
    return session.scalars(
        select(ConsentRecordRow).where(
            ConsentRecordRow.customer_id == customer_id,
            ConsentRecordRow.supplier_id == SUPPLIER,
            ConsentRecordRow.category == Category.HEALTH.value,
        )
    ).one()


def test_allow_after_a_no_keeps_the_price_and_the_expiry_she_set(runtime: Runtime) -> None:
    with runtime.session_factory() as session:
        customer_id, _ = _world(session)
        until = (utcnow() + timedelta(days=30)).replace(microsecond=0)
        _answer(session, runtime, customer_id, Category.HEALTH, price=7, expires_at=until)
        _click(session, runtime, customer_id, Switch.REFUSE, utcnow())
        assert _health_row(session, customer_id).state == ConsentState.WITHDRAWN.value

        cell = _cell(session, customer_id, Purpose.MARKETING, Category.HEALTH)
        assert cell.switch is Switch.ALLOW
        assert cell.carried == effective.Carried(price=7, until=until)
        text = effective.allow_text(cell)
        assert text is not None and "at your price of 7 credits" in text
        assert until.strftime("%d %B %Y") in text

        _click(session, runtime, customer_id, Switch.ALLOW, utcnow())
        row = _health_row(session, customer_id)
        assert (row.state, row.price, row.expires_at) == (ConsentState.GIVEN.value, 7, until)
        # Still her price: a supplier offering nothing gets nothing; the cell says so and offers a "no".
        again = _cell(session, customer_id, Purpose.MARKETING, Category.HEALTH)
        assert again.reason is Reason.PRICE_TOO_LOW and again.asked_price == 7
        assert effective.allow_text(again) is None
        session.rollback()


def test_allow_keeps_the_price_but_not_an_expiry_already_past(runtime: Runtime) -> None:
    with runtime.session_factory() as session:
        customer_id, _ = _world(session)
        start = utcnow()
        _answer(session, runtime, customer_id, Category.HEALTH, price=3, expires_at=start + timedelta(days=1))
        _click(session, runtime, customer_id, Switch.REFUSE, start + timedelta(hours=1))
        later_on = start + timedelta(days=2)
        _click(session, runtime, customer_id, Switch.ALLOW, later_on)
        row = _health_row(session, customer_id)
        assert (row.state, row.price, row.expires_at) == (ConsentState.GIVEN.value, 3, None)
        session.rollback()


def test_allow_keeps_only_what_was_set_on_that_exact_scope(runtime: Runtime) -> None:
    with runtime.session_factory() as session:
        customer_id, _ = _world(session)
        # A price on every kind of data is another scope: the one-click yes on health data does not take it.
        _answer(session, runtime, customer_id, None, price=9, expires_at=utcnow() + timedelta(days=5))
        cell = _cell(session, customer_id, Purpose.MARKETING, Category.HEALTH)
        assert not cell.carried and effective.allow_text(cell) is None
        _click(session, runtime, customer_id, Switch.ALLOW, utcnow())
        row = _health_row(session, customer_id)
        assert (row.state, row.price, row.expires_at) == (ConsentState.GIVEN.value, None, None)
        session.rollback()
