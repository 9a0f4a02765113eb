"""Ciphertext moved between customers, fields or record kinds, or altered, fails to decrypt with a clear
error that names the customer and field, never a value."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from infomediary.database import unit_of_work
from infomediary.profiles import activity
from infomediary.profiles import service as profiles
from infomediary.profiles.errors import VaultUnreadable
from infomediary.profiles.models import ActivityRecord, ProfileField
from infomediary.runtime import Runtime
from tests.fixtures.actors import make_consumer


def _ciphertext(runtime: Runtime, customer_id: str, field: str) -> bytes:
    with unit_of_work(runtime.session_factory) as session:
        value = session.scalar(
            select(ProfileField.ciphertext).where(
                ProfileField.customer_id == customer_id, ProfileField.field == field
            )
        )
    assert value is not None
    return value


def _put(runtime: Runtime, customer_id: str, field: str, ciphertext: bytes) -> None:
    with unit_of_work(runtime.session_factory) as session:
        session.execute(
            update(ProfileField)
            .where(ProfileField.customer_id == customer_id, ProfileField.field == field)
            .values(ciphertext=ciphertext)
        )


def _read(runtime: Runtime, customer_id: str) -> object:
    with unit_of_work(runtime.read_session_factory) as session:
        return profiles.stored_values(session, runtime, customer_id)


def test_ciphertext_swapped_between_customers_fails_clearly(http: TestClient, runtime: Runtime) -> None:
    ada, bob = make_consumer(http), make_consumer(http)
    for consumer, name in ((ada, "Ada"), (bob, "Bob")):
        http.patch("/v1/me/profile", headers=consumer.headers, json={"given_name": name})
    _put(runtime, ada.id, "given_name", _ciphertext(runtime, bob.id, "given_name"))
    with pytest.raises(VaultUnreadable) as caught:
        _read(runtime, ada.id)
    message = str(caught.value)
    assert ada.id in message and "profile.given_name" in message and "Bob" not in message
    response = http.get("/v1/me/profile", headers=ada.headers)
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("vault-unreadable") and "Bob" not in response.text
    assert http.get("/v1/me/profile", headers=bob.headers).status_code == 200


def test_ciphertext_swapped_between_fields_or_altered_fails(http: TestClient, runtime: Runtime) -> None:
    ada = make_consumer(http)
    http.patch("/v1/me/profile", headers=ada.headers, json={"given_name": "Ada", "family_name": "Lovelace"})
    given = _ciphertext(runtime, ada.id, "given_name")
    _put(runtime, ada.id, "family_name", given)
    with pytest.raises(VaultUnreadable, match="family_name"):
        _read(runtime, ada.id)
    flipped = bytearray(given)
    flipped[20] ^= 0x01
    _put(runtime, ada.id, "family_name", _ciphertext(runtime, ada.id, "given_name"))
    _put(runtime, ada.id, "given_name", bytes(flipped))
    with pytest.raises(VaultUnreadable, match="does not authenticate"):
        _read(runtime, ada.id)


def test_activity_record_relabelled_or_moved_fails(http: TestClient, runtime: Runtime) -> None:
    ada, bob = make_consumer(http), make_consumer(http)
    at = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    for consumer in (ada, bob):
        http.post(
            "/v1/me/activity",
            headers=consumer.headers,
            json={"records": [{"kind": "cart_add", "occurred_at": at, "item": "sku:1"}]},
        )
    with unit_of_work(runtime.session_factory) as session:
        session.execute(
            update(ActivityRecord).where(ActivityRecord.customer_id == ada.id).values(kind="cart_remove")
        )
    with unit_of_work(runtime.read_session_factory) as session, pytest.raises(VaultUnreadable):
        activity.list_activity(session, runtime, ada.id)
    with unit_of_work(runtime.session_factory) as session:
        session.execute(
            update(ActivityRecord).where(ActivityRecord.customer_id == ada.id).values(kind="cart_add")
        )
        ada_row = session.scalars(select(ActivityRecord).where(ActivityRecord.customer_id == ada.id)).one()
        ada_ciphertext = ada_row.ciphertext
        # Same kind and time, but the ciphertext belongs to another customer.
        bob_row = session.scalars(select(ActivityRecord).where(ActivityRecord.customer_id == bob.id)).one()
        session.execute(
            update(ActivityRecord)
            .where(ActivityRecord.customer_id == ada.id)
            .values(ciphertext=bob_row.ciphertext, occurred_at=bob_row.occurred_at)
        )
    with unit_of_work(runtime.read_session_factory) as session, pytest.raises(VaultUnreadable):
        activity.list_activity(session, runtime, ada.id)
    with unit_of_work(runtime.session_factory) as session:
        session.execute(
            update(ActivityRecord)
            .where(ActivityRecord.customer_id == ada.id)
            .values(ciphertext=ada_ciphertext, occurred_at=datetime(2020, 1, 1, tzinfo=UTC))
        )
    with (
        unit_of_work(runtime.read_session_factory) as session,
        pytest.raises(VaultUnreadable, match="altered"),
    ):
        activity.list_activity(session, runtime, ada.id)
