"""Erasure outlives a restore: a customer whose erasure key is gone (her rows back from a backup taken
before her erasure) is purged by reconciling, completely, logged as an erasure, and nobody else notices."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from infomediary.customers import directory
from infomediary.customers.blind_index import email_index
from infomediary.customers.models import ConsumerSession, Customer
from infomediary.database import unit_of_work
from infomediary.flows import erasures_reconciled
from infomediary.policylog import kinds
from infomediary.policylog.models import PolicyLogEntry
from infomediary.pseudonyms.models import SupplierPseudonymRow
from infomediary.runtime import Runtime
from tests.fixtures.actors import PASSWORD, erase, make_consumer, make_supplier
from tests.fixtures.audiences import PROFILE
from tests.fixtures.consents import pseudonym_for, publish


def _count(runtime: Runtime, model: type, customer_id: str) -> int:
    with runtime.read_session_factory() as session:
        column = model.id if model is Customer else model.customer_id  # type: ignore[attr-defined]
        return int(session.scalar(select(func.count()).where(column == customer_id)) or 0)


def test_a_customer_whose_erasure_key_is_gone_is_purged_and_logged(
    http: TestClient, runtime: Runtime
) -> None:
    restored, other = make_consumer(http), make_consumer(http)
    for consumer in (restored, other):
        assert http.patch("/v1/me/profile", json=PROFILE, headers=consumer.headers).status_code == 200
    shop = make_supplier(runtime)
    publish(http, shop, ["marketing"], ["demographics", "contact", "interests"])
    pseudonym_for(http, restored, shop)
    gone = restored.id
    # What a restore after her erasure leaves: every row of hers, and no erasure key.
    runtime.vault.shred(gone)
    assert _count(runtime, Customer, gone) == 1 and _count(runtime, SupplierPseudonymRow, gone) == 1
    with runtime.read_session_factory() as session:
        erased_before = session.scalar(
            select(func.count()).where(PolicyLogEntry.kind == kinds.ACCOUNT_ERASED)
        )

    with unit_of_work(runtime.session_factory) as session:
        done = erasures_reconciled.reconcile(session, runtime)
    assert (done.purged, done.tombstoned) == (1, 1)

    # Nothing of hers is left: account, sessions, pseudonyms; her token and her password no longer work.
    for model in (Customer, ConsumerSession, SupplierPseudonymRow):
        assert _count(runtime, model, gone) == 0
    assert http.get("/v1/me", headers=restored.headers).status_code == 401
    login = http.post("/v1/session", json={"email": restored.email, "password": restored.password})
    assert login.status_code == 401
    # The purge is logged as the erasure it is; the other customer is untouched.
    with runtime.read_session_factory() as session:
        erased_after = session.scalar(select(func.count()).where(PolicyLogEntry.kind == kinds.ACCOUNT_ERASED))
    assert erased_after == (erased_before or 0) + 1
    assert http.get("/v1/me", headers=other.headers).status_code == 200
    # Reconciling again finds nothing.
    with unit_of_work(runtime.session_factory) as session:
        assert erasures_reconciled.reconcile(session, runtime).purged == 0


def test_an_ordinary_erasure_leaves_a_tombstone_and_nothing_to_reconcile(
    http: TestClient, runtime: Runtime
) -> None:
    consumer = make_consumer(http)
    customer_id = consumer.id
    assert erase(http, consumer.headers).status_code == 200
    assert customer_id in runtime.vault.tombstones()
    with unit_of_work(runtime.session_factory) as session:
        assert erasures_reconciled.reconcile(session, runtime).purged == 0


def test_a_database_from_before_subject_names_is_adopted_and_its_logins_still_work(
    http: TestClient, runtime: Runtime
) -> None:
    """An older database keeps the login's blind index in `customers`, and its accounts have no customer
    id: reconciling (start-up, restore) moves the index to the key store and names every account."""
    consumer = make_consumer(http)
    index = email_index(runtime.keys.secret("blind_index"), consumer.email)
    # What the older schema left: the index in the row, no names in the key store.
    runtime.vault.unname(directory.KIND_EMAIL, consumer.id)
    runtime.vault.unname(directory.KIND_CUSTOMER_ID, consumer.id)
    with unit_of_work(runtime.session_factory) as session:
        session.execute(update(Customer).where(Customer.id == consumer.id).values(email_index=index))
    assert http.post("/v1/session", json={"email": consumer.email, "password": PASSWORD}).status_code == 401

    with unit_of_work(runtime.session_factory) as session:
        done = erasures_reconciled.reconcile(session, runtime)
    assert done.adopted >= 1

    with runtime.read_session_factory() as session:
        assert session.scalar(select(Customer.email_index).where(Customer.id == consumer.id)) is None
    login = http.post("/v1/session", json={"email": consumer.email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    shown = http.get("/v1/me", headers=consumer.headers).json()["id"]
    assert directory.subject_by_customer_id(runtime, shown) == consumer.id
    # Idempotent: nothing more to adopt.
    with unit_of_work(runtime.session_factory) as session:
        assert erasures_reconciled.reconcile(session, runtime).adopted == 0
