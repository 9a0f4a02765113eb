"""Slices through the service on a real database: k-anonymity of every released slice over random small
populations, the release entry's count, pseudonyms remembered, and paid slices refused until the ledger."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from consent.vocabulary import Purpose
from infomediary.database import unit_of_work
from infomediary.ledger import repository as ledger_repository
from infomediary.ledger.errors import CreditLineExceeded, IdempotencyKeyRequired
from infomediary.ledger.models import OwnerKind
from infomediary.policylog.models import PolicyLogEntry
from infomediary.pseudonyms import service as pseudonyms
from infomediary.pseudonyms.models import SupplierPseudonymRow
from infomediary.runtime import Runtime
from infomediary.slices import service
from infomediary.slices.errors import FieldNotSliceable
from tests.fixtures.audiences import indexed_customers, supplier_with_policy
from tests.slices.kanon import assert_k_anonymous

FIELDS = ["birth_date", "postal_code", "gender", "interests"]
GROUP = st.tuples(
    st.sampled_from(["1960-03-02", "1975-07-19", "1988-01-30", "1990-05-01", "2001-11-11"]),
    st.sampled_from(["75011", "75002", "69003", "10115", "M1 1AE"]),
    st.sampled_from(["female", "male", "non_binary"]),
    st.integers(1, 7),
)


def _take(runtime: Runtime, supplier_id: str, fields: list[str] = FIELDS, **kw: Any) -> service.Slice:
    with unit_of_work(runtime.session_factory) as session:
        return service.take_slice(session, runtime, supplier_id, Purpose.MARKETING, fields, **kw)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(groups=st.lists(GROUP, min_size=1, max_size=5))
def test_every_released_slice_is_k_anonymous(
    runtime: Runtime, groups: list[tuple[str, str, str, int]]
) -> None:
    # Customers accumulate across examples (the tables are emptied per test): later slices see them all.
    for birth, postal, gender, size in groups:
        indexed_customers(runtime, size, birth_date=birth, postal_code=postal, gender=gender)
    supplier_id = supplier_with_policy(runtime)
    taken = _take(runtime, supplier_id)
    assert_k_anonymous(taken.rows, runtime.settings.slice_min_k)
    assert len({r["pseudonym"] for r in taken.rows}) == len(taken.rows)
    with runtime.session_factory() as session:
        entry = session.scalars(
            select(PolicyLogEntry)
            .where(PolicyLogEntry.kind == "release", PolicyLogEntry.supplier_id == supplier_id)
            .order_by(PolicyLogEntry.leaf_index.desc())
        ).first()
        decisions = session.scalars(
            select(PolicyLogEntry.subject).where(
                PolicyLogEntry.kind == "decision", PolicyLogEntry.supplier_id == supplier_id
            )
        ).all()
        assert entry is not None and entry.release_count == len(taken.rows)
        assert json.loads(entry.entry)["details"]["price_per_customer"] == 0
        assert len(decisions) == len(taken.rows)
        # Every released pseudonym is remembered, so the supplier's later requests can name it.
        for row in taken.rows:
            pseudonyms.resolve(session, runtime, supplier_id, row["pseudonym"])


def test_an_outlier_is_suppressed_and_small_classes_generalised(runtime: Runtime) -> None:
    indexed_customers(runtime, 20, birth_date="1990-05-01", postal_code="75011", gender="female")
    indexed_customers(runtime, 1, birth_date="1950-05-01", postal_code="13001", gender="male")
    supplier_id = supplier_with_policy(runtime)
    taken = _take(runtime, supplier_id)
    assert_k_anonymous(taken.rows, 5)
    assert (len(taken.rows), taken.suppressed, taken.level) == (20, 1, 0)
    assert {(r["age_band"], r["postal_prefix"]) for r in taken.rows} == {("28-37", "75")}
    # Two classes of three merge one level up (prefix "7", 20-year bands) instead of both being suppressed.
    indexed_customers(runtime, 3, birth_date="1990-05-01", postal_code="76000", gender="male")
    indexed_customers(runtime, 3, birth_date="1990-05-01", postal_code="75011", gender="male")
    taken = _take(runtime, supplier_id, ["birth_date", "postal_code"])
    assert_k_anonymous(taken.rows, 5)
    assert taken.level == 1 and len(taken.rows) == 26


def test_the_level_is_the_lowest_that_reaches_k_and_never_above_the_fields_own_top(runtime: Runtime) -> None:
    indexed_customers(runtime, 6, gender="female")
    supplier_id = supplier_with_policy(runtime)
    # k=5 is met as stored: nothing is coarsened.
    taken = _take(runtime, supplier_id, ["gender"])
    assert (taken.level, taken.suppressed, {r["gender"] for r in taken.rows}) == (0, 0, {"female"})
    # Two classes of three: half the rows would be suppressed at level 0, so gender is hidden (level 1).
    indexed_customers(runtime, 3, gender="male")
    indexed_customers(runtime, 3, gender="non_binary")
    taken = _take(runtime, supplier_id, ["gender"])
    assert (taken.level, taken.suppressed, len(taken.rows)) == (1, 0, 12)
    assert {r["gender"] for r in taken.rows} == {"*"}


def test_a_slice_that_cannot_reach_k_stops_at_the_top_of_its_fields_ladders(runtime: Runtime) -> None:
    # Gender's ladder has one step above level 0 (birth dates have two): the slice reports level 1, the
    # highest its fields have, and suppresses what is still below k rather than claiming a level 2.
    indexed_customers(runtime, 2, gender="female")
    supplier_id = supplier_with_policy(runtime)
    taken = _take(runtime, supplier_id, ["gender", "household_size"])
    assert (taken.level, taken.suppressed, taken.rows) == (1, 2, [])
    taken = _take(runtime, supplier_id, ["gender", "birth_date"])
    assert (taken.level, taken.suppressed, taken.rows) == (2, 2, [])


@pytest.mark.parametrize(
    "field", ["given_name", "family_name", "email", "phone", "street_address", "occupation"]
)
def test_identity_and_free_text_fields_are_refused(runtime: Runtime, field: str) -> None:
    supplier_id = supplier_with_policy(runtime)
    with pytest.raises(FieldNotSliceable):
        _take(runtime, supplier_id, ["birth_date", field])


def _release_entries(runtime: Runtime, supplier_id: str) -> int:
    with runtime.session_factory() as session:
        query = select(PolicyLogEntry).where(
            PolicyLogEntry.supplier_id == supplier_id, PolicyLogEntry.kind == "release"
        )
        return len(session.scalars(query).all())


def _balances(runtime: Runtime, supplier_id: str, customer_ids: list[str]) -> tuple[int, list[int]]:
    with runtime.session_factory() as session:
        return (
            ledger_repository.balance_of(session, OwnerKind.SUPPLIER, supplier_id),
            [ledger_repository.balance_of(session, OwnerKind.CUSTOMER, c) for c in customer_ids],
        )


def test_a_paid_slice_pays_every_released_customer_once_per_key(runtime: Runtime) -> None:
    customer_ids = indexed_customers(runtime, 6)
    supplier_id = supplier_with_policy(runtime)
    first = _take(runtime, supplier_id, max_price_per_customer=3, idempotency_key="slice-1")
    released = len(first.rows)
    assert released >= 5
    supplier_balance, customer_balances = _balances(runtime, supplier_id, customer_ids)
    assert supplier_balance == -3 * released
    assert sorted(customer_balances) == sorted([3] * released + [0] * (len(customer_ids) - released))
    # The same request again with the same key releases the same rows and pays nobody twice.
    again = _take(runtime, supplier_id, max_price_per_customer=3, idempotency_key="slice-1")
    assert len(again.rows) == released
    assert _balances(runtime, supplier_id, customer_ids) == (supplier_balance, customer_balances)


def test_a_paid_slice_needs_an_idempotency_key_and_releases_nothing_without_one(runtime: Runtime) -> None:
    indexed_customers(runtime, 5)
    supplier_id = supplier_with_policy(runtime)
    with pytest.raises(IdempotencyKeyRequired):
        _take(runtime, supplier_id, max_price_per_customer=3)
    assert _release_entries(runtime, supplier_id) == 0


def test_a_supplier_that_cannot_pay_gets_nothing(runtime: Runtime) -> None:
    customer_ids = indexed_customers(runtime, 5)
    supplier_id = supplier_with_policy(runtime)
    price = runtime.settings.supplier_credit_line  # five customers at this price exceed the credit line
    with pytest.raises(CreditLineExceeded):
        _take(runtime, supplier_id, max_price_per_customer=price, idempotency_key="too-dear")
    assert _release_entries(runtime, supplier_id) == 0
    assert _balances(runtime, supplier_id, customer_ids) == (0, [0] * len(customer_ids))


def test_issuing_pseudonyms_in_a_batch_records_each_once_and_keeps_the_first_issue_time(
    runtime: Runtime,
) -> None:
    supplier_id = supplier_with_policy(runtime)
    first, later = indexed_customers(runtime, 3), indexed_customers(runtime, 2)
    with unit_of_work(runtime.session_factory) as session:
        handed = pseudonyms.issue_many(session, runtime, supplier_id, first)
    with runtime.read_session_factory() as session:
        issued = {row.customer_id: row.issued_at for row in session.scalars(select(SupplierPseudonymRow))}
    with unit_of_work(runtime.session_factory) as session:
        # Overlapping batch: the three already issued keep their rows, the two new ones are added.
        again = pseudonyms.issue_many(session, runtime, supplier_id, [*first, *later])
    assert {cid: again[cid] for cid in first} == handed
    with runtime.read_session_factory() as session:
        rows = {row.customer_id: row for row in session.scalars(select(SupplierPseudonymRow))}
        assert set(rows) == {*first, *later}
        assert {cid: rows[cid].issued_at for cid in first} == issued
        for customer_id in [*first, *later]:
            assert pseudonyms.resolve(session, runtime, supplier_id, again[customer_id]) == customer_id
