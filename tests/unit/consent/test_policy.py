"""Supplier policies: widening, the consent floor, undeclared use."""

from __future__ import annotations

from datetime import timedelta

import pytest

from consent.errors import InvalidRecord
from consent.policy import PolicyInForce, SupplierPolicy, next_consent_floor, undeclared, widening, widens
from consent.vocabulary import Category, Purpose
from tests.unit.consent.factories import NOW

M, P, SELL = Purpose.MARKETING, Purpose.PERSONALISATION, Purpose.SELL_DATA_TO_THIRD_PARTIES
INT, A, H = Category.INTERESTS, Category.ACTIVITY, Category.HEALTH


def pol(
    version: int, purposes: set[Purpose], categories: set[Category], supplier: str = "acme"
) -> SupplierPolicy:
    return SupplierPolicy(
        supplier, version, frozenset(purposes), frozenset(categories), NOW + timedelta(days=version)
    )


@pytest.mark.parametrize(
    ("old", "new", "widened"),
    [
        (pol(1, {M}, {INT}), pol(2, {M}, {INT}), False),
        (pol(1, {M, P}, {INT, A}), pol(2, {M}, {INT}), False),
        (pol(1, {M}, {INT}), pol(2, {M, SELL}, {INT}), True),
        (pol(1, {M}, {INT}), pol(2, {M}, {INT, H}), True),
        (pol(1, {M, P}, {INT, A}), pol(2, {M, SELL}, {INT}), True),  # swaps a purpose: still widens
    ],
)
def test_widens(old, new, widened) -> None:
    assert widens(old, new) is widened


def test_widening_names_what_was_added() -> None:
    w = widening(pol(1, {M}, {INT}), pol(2, {M, SELL}, {INT, H}))
    assert (w.added_purposes, w.added_categories) == ({SELL}, {H})


def test_widening_rejects_unrelated_policies() -> None:
    with pytest.raises(InvalidRecord):
        widening(pol(1, {M}, {INT}), pol(2, {M}, {INT}, supplier="beta"))
    with pytest.raises(InvalidRecord):
        widening(pol(2, {M}, {INT}), pol(2, {M}, {INT}))


def test_consent_floor_moves_only_on_widening() -> None:
    v1, v2, v3 = pol(1, {M}, {INT}), pol(2, {M}, {INT}), pol(3, {M}, {INT, H})
    floor = next_consent_floor(None, None, v1)
    assert floor == 1
    floor = next_consent_floor(floor, v1, v2)
    assert floor == 1
    floor = next_consent_floor(floor, v2, v3)
    assert floor == 3


def test_policy_in_force_bounds_its_floor() -> None:
    with pytest.raises(InvalidRecord):
        PolicyInForce(pol(2, {M}, {INT}), consent_floor_version=3)
    with pytest.raises(InvalidRecord):
        PolicyInForce(pol(2, {M}, {INT}), consent_floor_version=0)


def test_undeclared() -> None:
    p = pol(1, {M}, {INT, A})
    assert not undeclared(p, M, [INT, A])
    u = undeclared(p, SELL, [INT, H])
    assert (u.purpose, u.categories) == (SELL, {H})
