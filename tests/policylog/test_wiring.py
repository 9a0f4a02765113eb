"""What the other domains write into the policy log, and what restriction does to the decision point."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from consent.decision import Reason
from consent.vocabulary import Category, Purpose, ReleaseKind
from infomediary import rotation
from infomediary.consents.decision_point import decide_for, supplier_query
from infomediary.consents.set_filter import count_permitted
from infomediary.database import unit_of_work
from infomediary.policylog import kinds
from infomediary.policylog.errors import EntryError
from infomediary.policylog.kinds import normalise
from infomediary.policylog.models import PolicyLogEntry
from infomediary.policylog.service import log_pseudonym
from infomediary.runtime import Runtime
from tests.fixtures.actors import erase, make_consumer, make_supplier


def _entries(runtime: Runtime, kind: str) -> list[dict[str, object]]:
    with runtime.read_session_factory() as session:
        rows = session.scalars(
            select(PolicyLogEntry.entry)
            .where(PolicyLogEntry.kind == kind)
            .order_by(PolicyLogEntry.leaf_index)
        )
        return [json.loads(row) for row in rows]


def test_erasure_is_logged_under_the_log_pseudonym(http: TestClient, runtime: Runtime) -> None:
    consumer = make_consumer(http)
    assert erase(http, consumer.headers).status_code == 200
    [erased] = _entries(runtime, kinds.ACCOUNT_ERASED)
    assert erased["subject"] == log_pseudonym(runtime, consumer.id)
    assert consumer.id not in json.dumps(erased)


def test_a_failed_erasure_leaves_no_entry(http: TestClient, runtime: Runtime) -> None:
    consumer = make_consumer(http)
    other = make_consumer(http)
    erase(http, consumer.headers)
    assert erase(http, consumer.headers).status_code == 401
    assert len(_entries(runtime, kinds.ACCOUNT_ERASED)) == 1
    assert other.id  # the other account is untouched and unlogged


def test_key_encryption_key_rotation_is_logged_in_its_phases(http: TestClient, runtime: Runtime) -> None:
    make_consumer(http)
    version = rotation.add_version(runtime)
    rewrapped = rotation.rewrap(runtime)
    retired = rotation.retire_unused(runtime)
    phases = [
        (e["details"]["phase"], e["details"]["version"]) for e in _entries(runtime, kinds.KEYS_KEK_ROTATED)
    ]  # type: ignore[index]
    assert rewrapped >= 1 and retired
    assert phases == [("added", version), ("rewrapped", version), *[("retired", v) for v in retired]]


def test_restriction_denies_every_supplier_use_and_is_logged(http: TestClient, runtime: Runtime) -> None:
    consumer = make_consumer(http)
    supplier = make_supplier(runtime)
    policy = {"purposes": ["marketing"], "categories": ["interests"]}
    assert http.put("/v1/supplier/policy", json=policy, headers=supplier.headers(http)).status_code in (
        200,
        201,
    )

    def decide() -> tuple[bool, Reason, int]:
        with unit_of_work(runtime.session_factory) as session:
            query = supplier_query(
                session,
                supplier_id=supplier.owner_id,
                purpose=Purpose.MARKETING,
                categories=[Category.INTERESTS],
                release_kind=ReleaseKind.AGGREGATE_COUNT,
            )
            decision = decide_for(session, runtime, consumer.id, query)
            return decision.permitted, decision.reason, count_permitted(session, query)

    permitted, _, counted = decide()
    assert permitted and counted == 1  # ordinary data, ordinary purpose: opt-out, so permitted by default
    assert http.post("/v1/me/restriction", headers=consumer.headers).status_code in (200, 201)
    permitted, reason, counted = decide()
    assert not permitted and reason is Reason.PROCESSING_RESTRICTED and counted == 0
    assert http.delete("/v1/me/restriction", headers=consumer.headers).status_code == 200
    assert decide()[0]
    decisions = _entries(runtime, kinds.DECISION)
    assert [d["decision"] for d in decisions] == ["permit", "deny", "permit"]


def test_standing_term_changes_are_logged_as_counts_per_kind(http: TestClient, runtime: Runtime) -> None:
    consumer = make_consumer(http)
    terms = [
        {"kind": "never_category", "category": "health"},
        {"kind": "never_category", "category": "religion"},
        {"kind": "min_price", "credits": 5},
    ]
    assert http.put("/v1/me/terms", json={"terms": terms}, headers=consumer.headers).status_code == 200
    assert http.delete("/v1/me/terms", headers=consumer.headers).status_code == 204
    replaced, cleared = _entries(runtime, kinds.TERMS_CHANGED)
    subject = log_pseudonym(runtime, consumer.id)
    assert replaced["subject"] == cleared["subject"] == subject
    assert replaced["details"] == {"terms": 3, "never_category": 2, "min_price": 1}
    assert cleared["details"] == {"terms": 0}
    # Counts only: neither the customer nor what the terms protect appears in the log.
    for text in (consumer.id, "health", "religion"):
        assert text not in json.dumps([replaced, cleared])


def test_refused_term_changes_leave_no_entry(http: TestClient, runtime: Runtime) -> None:
    consumer = make_consumer(http)
    bad = {"terms": [{"kind": "never_category", "purpose": "marketing"}]}
    assert http.put("/v1/me/terms", json=bad, headers=consumer.headers).status_code == 422
    assert http.put("/v1/me/terms", json={"terms": []}, headers=http.headers).status_code == 401
    assert _entries(runtime, kinds.TERMS_CHANGED) == []


def test_a_terms_entry_carries_counts_only() -> None:
    subject = "ab" * 32
    good = {"kind": kinds.TERMS_CHANGED, "subject": subject, "details": {"terms": 1, "min_price": 1}}
    normalise(good, datetime.now(UTC))
    for bad in (
        {**good, "details": {"terms": 1, "min_price": "5 credits"}},
        {**good, "details": {"terms": 2, "min_price": 1}},
        {**good, "details": {"min_price": 1}},
        {**good, "purpose": "marketing"},
        {"kind": kinds.TERMS_CHANGED, "details": {"terms": 0}},
    ):
        with pytest.raises(EntryError):
            normalise(bad, datetime.now(UTC))
