"""Slices through the service on a real database: k-anonymity of every released slice over random small
populations, the release entry's count, pseudonyms remembered, and paid slices refused until the ledger."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from consent.catalog import Purpose
from infomediary import pseudonyms
from infomediary.database import unit_of_work
from infomediary.policylog.models import PolicyLogEntry
from infomediary.runtime import Runtime
from infomediary.slices import service
from infomediary.slices.errors import FieldNotSliceable, PaidSlicesNeedLedger
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


@pytest.mark.parametrize(
    "field", ["given_name", "family_name", "email", "phone", "street_address", "occupation"]
)
def test_identity_and_free_text_fields_are_refused(runtime: Runtime, field: str) -> None:
    supplier_id = supplier_with_policy(runtime)
    with pytest.raises(FieldNotSliceable):
        _take(runtime, supplier_id, ["birth_date", field])


def test_a_paid_slice_is_refused_until_the_ledger_exists(runtime: Runtime) -> None:
    indexed_customers(runtime, 5)
    supplier_id = supplier_with_policy(runtime)
    with pytest.raises(PaidSlicesNeedLedger):
        _take(runtime, supplier_id, max_price_per_customer=3)
    with runtime.session_factory() as session:
        assert (
            session.scalars(
                select(PolicyLogEntry).where(
                    PolicyLogEntry.supplier_id == supplier_id, PolicyLogEntry.kind == "release"
                )
            ).first()
            is None
        )
