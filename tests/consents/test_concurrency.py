"""Races that used to end in a 500 from a unique constraint: one supplier publishing two policy versions at
once, and the first GPC signal of a customer arriving on several requests at once.

Threads against PostgreSQL, in a fresh database of their own (so they run, or outside CI skip visibly, even
when the suite is on SQLite). On SQLite every writing transaction holds the write lock from BEGIN, so these
races cannot happen there.
"""

from __future__ import annotations

import itertools
import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from consent.vocabulary import Category, Purpose
from infomediary.consents.models import PrivacySignalRow, SupplierPolicyRow
from infomediary.flows import consent_changed, policy_published
from infomediary.policylog import kinds
from infomediary.policylog.models import PolicyLogEntry
from infomediary.policylog.service import log_pseudonym
from infomediary.runtime import Runtime
from tests.fixtures.actors import make_supplier
from tests.fixtures.population import make_customers
from tests.fixtures.races import WORKERS, at_once

# Real commits on the real engines: this module's tests race connections or read what a commit leaves.
pytestmark = pytest.mark.committing


def _log(runtime: Runtime, kind: str) -> list[dict[str, object]]:
    with runtime.read_session_factory() as session:
        rows = session.scalars(
            select(PolicyLogEntry.entry)
            .where(PolicyLogEntry.kind == kind)
            .order_by(PolicyLogEntry.leaf_index)
        )
        return [json.loads(row) for row in rows]


def test_policy_versions_published_at_once_take_turns(pg_runtime: Runtime) -> None:
    supplier = make_supplier(pg_runtime)
    # Every other worker widens (adds health), so the comparison with the previous version matters too.
    declared = [Category.INTERESTS, Category.ACTIVITY]

    def publish(session: Session, worker: int) -> object:
        categories = [*declared, Category.HEALTH] if worker % 2 else declared
        return policy_published.publish_policy(
            session,
            pg_runtime,
            supplier.owner_id,
            purposes=[Purpose.MARKETING],
            categories=categories,
            policy_url=None,
        )

    at_once(pg_runtime, publish)
    with pg_runtime.read_session_factory() as session:
        rows = session.scalars(
            select(SupplierPolicyRow)
            .where(SupplierPolicyRow.supplier_id == supplier.owner_id)
            .order_by(SupplierPolicyRow.version)
        ).all()
    assert [r.version for r in rows] == list(range(1, WORKERS + 1))
    logged = [e["details"]["version"] for e in _log(pg_runtime, kinds.POLICY_PUBLISHED)]  # type: ignore[index]
    assert logged == list(range(1, WORKERS + 1))
    # Each version's floor was computed against the version before it, as if published one after another.
    for before, after in itertools.pairwise(rows):
        widened = "health" in after.categories and "health" not in before.categories
        assert after.consent_floor_version == (after.version if widened else before.consent_floor_version)


def test_the_first_gpc_signal_racing_itself_is_recorded_and_logged_once(pg_runtime: Runtime) -> None:
    [customer_id] = make_customers(pg_runtime, 1)

    results = at_once(
        pg_runtime, lambda session, _: consent_changed.record_gpc(session, pg_runtime, customer_id)
    )

    assert sorted(results) == [False] * (WORKERS - 1) + [True]  # type: ignore[type-var]
    with pg_runtime.read_session_factory() as session:
        signals = session.scalars(select(PrivacySignalRow)).all()
    assert [(s.customer_id, s.gpc) for s in signals] == [(customer_id, True)]
    refused = _log(pg_runtime, kinds.CONSENT_REFUSED)
    assert [e["subject"] for e in refused] == [log_pseudonym(pg_runtime, customer_id)]
