"""The recommendation request path after its speed-ups: the decisions and the release still land in the log
together (one append, contiguous leaves, in the request's transaction), and a new training is served at
once even by a process whose model cache was never told about it."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from infomediary.database import unit_of_work
from infomediary.policylog import kinds
from infomediary.policylog.models import PolicyLogEntry
from infomediary.policylog.service import tree_size
from infomediary.pseudonyms import service as pseudonyms
from infomediary.recommendations import service, store, training
from infomediary.runtime import Runtime
from tests.fixtures.population import make_customers
from tests.recommendations.test_training import _shop, _view_items


def test_a_request_logs_one_decision_per_category_then_the_release_contiguously(runtime: Runtime) -> None:
    supplier_id = _shop(runtime)
    customers = sorted(make_customers(runtime, 4))
    for customer_id in customers:
        _view_items(runtime, customer_id, [1, 2, 3, 4])
    with unit_of_work(runtime.session_factory) as session:
        training.train(session, runtime, supplier_id, threads=1)
        name = pseudonyms.issue(session, runtime, supplier_id, customers[0]).pseudonym
    with unit_of_work(runtime.session_factory) as session:
        first = tree_size(session)
        answer = service.recommend(session, runtime, supplier_id, name, 5)
        last = tree_size(session)
        rows = session.scalars(
            select(PolicyLogEntry)
            .where(PolicyLogEntry.leaf_index >= first)
            .order_by(PolicyLogEntry.leaf_index)
        ).all()
    assert answer.items
    assert [r.leaf_index for r in rows] == list(range(first, last))
    entries = [json.loads(r.entry) for r in rows]
    # Every category asked is decided and logged before the one release entry that closes the request.
    assert [e["kind"] for e in entries] == [kinds.DECISION] * (len(entries) - 1) + [kinds.RELEASE]
    decided = [e["categories"] for e in entries[:-1]]
    assert all(len(c) == 1 for c in decided) and len({c[0] for c in decided}) == len(decided)
    assert {"activity", "purchases"} <= {c[0] for c in decided}
    assert entries[-1]["details"]["recommended_items"] == len(answer.items)


def test_a_new_training_is_served_even_when_this_process_was_not_told(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    supplier_id = _shop(runtime)
    customers = sorted(make_customers(runtime, 4))
    for customer_id in customers:
        _view_items(runtime, customer_id, [1, 2, 3])
    with unit_of_work(runtime.session_factory) as session:
        training.train(session, runtime, supplier_id, threads=1)
    with unit_of_work(runtime.session_factory) as session:
        old = store.load(session, supplier_id)
    assert old is not None
    # Another process trains: this process's cache is not evicted, only the stored training time changes.
    monkeypatch.setattr(store, "_forget", lambda supplier_id: None)
    for customer_id in customers:
        _view_items(runtime, customer_id, [7, 8, 9])
    with unit_of_work(runtime.session_factory) as session:
        training.train(session, runtime, supplier_id, threads=1)
    with unit_of_work(runtime.session_factory) as session:
        new = store.load(session, supplier_id)
    assert new is not None and new is not old
    assert new.trained_at > old.trained_at
    assert new.meta["interactions"] > old.meta["interactions"]
