"""Consent records: validation, effective state at decision time, the state machine, the portfolio."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from consent.errors import CustomerMismatch, InvalidRecord, InvalidTransition
from consent.records import (
    ALL_CATEGORIES,
    ALL_SUPPLIERS,
    ALLOWED_TRANSITIONS,
    INITIAL_STATES,
    Actor,
    ConsentEvent,
    ConsentPortfolio,
    ConsentState,
    effective_state,
    open_record,
    transition,
)
from consent.vocabulary import Category, Purpose
from tests.unit.consent.factories import CUSTOMER, FLOOR, NOW, SUPPLIER, record

S = ConsentState


def test_given_record_expires_at_its_expiry_instant() -> None:
    r = record(state=S.GIVEN, expires_at=NOW)
    assert effective_state(r, NOW - timedelta(microseconds=1), FLOOR) is S.GIVEN
    assert effective_state(r, NOW, FLOOR) is S.EXPIRED


def test_given_record_below_the_floor_is_invalidated() -> None:
    assert effective_state(record(policy_version=FLOOR - 1), NOW, FLOOR) is S.INVALIDATED
    assert effective_state(record(policy_version=FLOOR), NOW, FLOOR) is S.GIVEN
    assert effective_state(record(state=S.REQUESTED, policy_version=FLOOR - 1), NOW, FLOOR) is S.INVALIDATED


@pytest.mark.parametrize("state", [S.REFUSED, S.WITHDRAWN])
def test_a_no_is_never_invalidated_nor_expired(state) -> None:
    r = record(state=state, policy_version=1, expires_at=NOW - timedelta(days=1))
    assert effective_state(r, NOW, FLOOR) is state


def test_wildcard_supplier_records_are_not_tied_to_a_policy_floor() -> None:
    r = record(supplier=ALL_SUPPLIERS)
    assert r.policy_version is None
    assert effective_state(r, NOW, 99) is S.GIVEN


def test_specificity() -> None:
    assert record().specificity == 2
    assert record(category=ALL_CATEGORIES).specificity == 1
    assert record(supplier=ALL_SUPPLIERS).specificity == 1
    assert record(supplier=ALL_SUPPLIERS, category=ALL_CATEGORIES).specificity == 0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"price": -1},
        {"policy_version": None},  # given to a supplier without a policy version
        {"at": datetime(2026, 1, 1)},  # naive  # noqa: DTZ001
        {"customer_id": ""},
        {"supplier": ""},
    ],
)
def test_invalid_records_are_rejected(kwargs) -> None:
    with pytest.raises(InvalidRecord):
        record(**kwargs)


def _open(state: S = S.GIVEN, actor: Actor = Actor.CUSTOMER):
    return open_record(
        record_id="r1",
        customer_id=CUSTOMER,
        supplier=SUPPLIER,
        purpose=Purpose.MARKETING,
        category=Category.INTERESTS,
        state=state,
        at=NOW - timedelta(days=1),
        actor=actor,
        reason="test",
        policy_version=FLOOR,
    )


def test_open_record_emits_the_first_event() -> None:
    r, event = _open()
    assert event == ConsentEvent("r1", None, S.GIVEN, NOW - timedelta(days=1), Actor.CUSTOMER, "test")
    assert r.created_at == r.updated_at == event.at


@pytest.mark.parametrize("state", sorted(set(S) - INITIAL_STATES))
def test_cannot_open_in_a_derived_or_terminal_state(state) -> None:
    with pytest.raises(InvalidTransition):
        _open(state, Actor.SYSTEM)


def test_only_the_customer_can_give_refuse_or_withdraw() -> None:
    with pytest.raises(InvalidTransition, match="only the customer"):
        _open(S.GIVEN, Actor.SUPPLIER)
    r, _ = _open(S.REQUESTED, Actor.SUPPLIER)
    with pytest.raises(InvalidTransition):
        transition(r, S.GIVEN, at=NOW, actor=Actor.OPERATOR, reason="forged")


def _in_state(state: S):
    r, _ = _open()
    return record(state=state, record_id=r.record_id, at=r.updated_at, policy_version=FLOOR)


@pytest.mark.parametrize("from_state", list(S))
@pytest.mark.parametrize("to_state", list(S))
def test_transition_table(from_state, to_state) -> None:
    r = _in_state(from_state)
    actor = Actor.CUSTOMER if to_state in (S.GIVEN, S.REFUSED, S.WITHDRAWN) else Actor.SYSTEM
    if from_state in ALLOWED_TRANSITIONS[to_state]:
        new, event = transition(r, to_state, at=NOW, actor=actor, reason="x")
        assert new.state is to_state
        assert new.updated_at == NOW
        assert (event.from_state, event.to_state, event.record_id) == (from_state, to_state, r.record_id)
    else:
        with pytest.raises(InvalidTransition) as info:
            transition(r, to_state, at=NOW, actor=actor, reason="x")
        assert info.value.from_state == from_state.value
        assert info.value.to_state == to_state.value


def test_the_rules_of_the_issue() -> None:
    # Grant from any state; withdraw only from given; a "no" cannot be turned back into a request.
    assert ALLOWED_TRANSITIONS[S.GIVEN] == frozenset(S)
    assert ALLOWED_TRANSITIONS[S.WITHDRAWN] == {S.GIVEN}
    assert S.REFUSED not in ALLOWED_TRANSITIONS[S.REQUESTED]
    assert S.WITHDRAWN not in ALLOWED_TRANSITIONS[S.REQUESTED]


def test_withdraw_from_refused_has_a_clear_message() -> None:
    with pytest.raises(InvalidTransition, match=r"from 'refused' to 'withdrawn'.*only from \['given'\]"):
        transition(_in_state(S.REFUSED), S.WITHDRAWN, at=NOW, actor=Actor.CUSTOMER, reason="x")


def test_regrant_updates_terms_and_keeps_the_rest() -> None:
    r, _ = _open()
    new, _ = transition(r, S.GIVEN, at=NOW, actor=Actor.CUSTOMER, reason="renew", price=7, policy_version=3)
    assert (new.price, new.policy_version, new.expires_at, new.created_at) == (7, 3, None, r.created_at)


def test_transition_cannot_go_back_in_time() -> None:
    r, _ = _open()
    with pytest.raises(InvalidTransition):
        transition(r, S.WITHDRAWN, at=r.updated_at - timedelta(seconds=1), actor=Actor.CUSTOMER, reason="x")


def test_portfolio_lookup_groups_by_scope() -> None:
    specific = record()
    supplier_wide = record(category=ALL_CATEGORIES)
    category_wide = record(supplier=ALL_SUPPLIERS)
    everything = record(supplier=ALL_SUPPLIERS, category=ALL_CATEGORIES)
    other = record(purpose=Purpose.PERSONALISATION)
    portfolio = ConsentPortfolio.of(CUSTOMER, [specific, supplier_wide, category_wide, everything, other])
    mine, everyone = portfolio.lookup(SUPPLIER, Purpose.MARKETING)
    assert mine.by_category == {Category.INTERESTS: (specific,)}
    assert mine.all_categories == (supplier_wide,)
    assert everyone.by_category == {Category.INTERESTS: (category_wide,)}
    assert everyone.all_categories == (everything,)
    nothing, _ = portfolio.lookup("unknown", Purpose.MARKETING)
    assert nothing.by_category == {}
    assert nothing.all_categories == ()


def test_portfolio_rejects_foreign_and_duplicate_records() -> None:
    with pytest.raises(CustomerMismatch):
        ConsentPortfolio.of(CUSTOMER, [record(customer_id="other")])
    with pytest.raises(InvalidRecord):
        ConsentPortfolio.of(CUSTOMER, [record(record_id="x"), record(record_id="x")])
