"""Erasure, identity release and a password change need the current password again, not only a session: a
stolen session must not be able to erase a customer or tell a supplier who they are. Wrong passwords count
against the login throttle, so the session cannot be used to guess the password either."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from infomediary.runtime import Runtime
from tests.fixtures.actors import PASSWORD, Consumer, erase, make_consumer, make_supplier
from tests.fixtures.consents import later, pseudonym_for, publish
from tests.fixtures.offers import balance, body, exact_offers, profiled, sent, supplier

WRONG = "not my password at all"


@pytest.fixture
def app(runtime: Runtime) -> Iterator[FastAPI]:
    with exact_offers(runtime) as exact:
        yield create_app(runtime=exact)


def _still_works(http: TestClient, consumer: Consumer) -> None:
    assert http.get("/v1/me", headers=consumer.headers).status_code == 200
    assert http.get("/v1/me/profile", headers=consumer.headers).json()["fields"]
    login = http.post("/v1/session", json={"email": consumer.email, "password": consumer.password})
    assert login.status_code == 200, login.text


def _profile(http: TestClient, consumer: Consumer) -> None:
    changed = http.patch("/v1/me/profile", headers=consumer.headers, json={"given_name": "Ada"})
    assert changed.status_code == 200, changed.text


def test_erasure_without_the_password_is_refused_and_the_account_still_works(http: TestClient) -> None:
    consumer = make_consumer(http)
    _profile(http, consumer)
    for refused in (
        http.delete("/v1/me", headers=consumer.headers),
        http.request("DELETE", "/v1/me", headers=consumer.headers, json={}),
    ):
        assert refused.status_code == 422, refused.text
    _still_works(http, consumer)


def test_erasure_with_a_wrong_password_is_refused_and_the_account_still_works(http: TestClient) -> None:
    consumer = make_consumer(http)
    _profile(http, consumer)
    refused = erase(http, consumer.headers, WRONG)
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["type"].endswith("reauthentication-failed")
    assert "www-authenticate" not in refused.headers  # the session is fine: not a 401
    _still_works(http, consumer)
    erased = erase(http, consumer.headers)
    assert erased.status_code == 200, erased.text
    assert erased.json()["account"] == consumer.shown_id
    assert http.get("/v1/me", headers=consumer.headers).status_code == 401


def test_wrong_passwords_through_a_session_hit_the_login_throttle(http: TestClient, runtime: Runtime) -> None:
    consumer = make_consumer(http)
    for _ in range(runtime.settings.login_max_failures_per_account):
        assert erase(http, consumer.headers, WRONG).status_code == 403
    # Locked like a login: even the right password waits, on every path that asks for it.
    blocked = erase(http, consumer.headers)
    assert blocked.status_code == 429 and blocked.json()["type"].endswith("login-throttled")
    assert int(blocked.headers["retry-after"]) > 0
    changed = http.post(
        "/v1/me/password",
        headers=consumer.headers,
        json={"current_password": PASSWORD, "new_password": "another long passphrase"},
    )
    assert changed.status_code == 429
    login = http.post("/v1/session", json={"email": consumer.email, "password": PASSWORD})
    assert login.status_code == 429
    assert http.get("/v1/me", headers=consumer.headers).status_code == 200


def test_wrong_current_passwords_count_against_the_throttle(http: TestClient, runtime: Runtime) -> None:
    consumer = make_consumer(http)
    for _ in range(runtime.settings.login_max_failures_per_account):
        wrong = http.post(
            "/v1/me/password",
            headers=consumer.headers,
            json={"current_password": WRONG, "new_password": "another long passphrase"},
        )
        assert wrong.status_code == 403
    assert http.post("/v1/session", json={"email": consumer.email, "password": PASSWORD}).status_code == 429


@pytest.mark.parametrize("password", [None, WRONG])
def test_an_identity_release_without_the_right_password_releases_nothing(
    http: TestClient, runtime: Runtime, password: str | None
) -> None:
    [consumer] = profiled(http, 1)
    sender = supplier(http, runtime)
    offer = sent(http, sender, body(releases_identity=True))
    confirm: dict[str, object] = {"release_identity": True}
    if password is not None:
        confirm["password"] = password
    refused = http.post(f"/v1/me/offers/{offer['id']}/accept", headers=consumer.headers, json=confirm)
    assert refused.status_code == 403, refused.text
    assert refused.json()["type"].endswith("reauthentication-failed")
    assert balance(http, consumer) == 0
    read = http.get(f"/v1/offers/{offer['id']}", headers=sender.headers(http))
    assert read.json()["released_identities"] == [] and "Zelda" not in read.text
    assert consumer.email not in read.text
    records = http.get("/v1/me/consents", headers=consumer.headers).json()["items"]
    assert not [r for r in records if r["category"] and r["category"]["key"] == "identity"]

    confirm["password"] = consumer.password
    accepted = http.post(f"/v1/me/offers/{offer['id']}/accept", headers=consumer.headers, json=confirm)
    assert accepted.status_code == 200, accepted.text
    read = http.get(f"/v1/offers/{offer['id']}", headers=sender.headers(http))
    [alias] = http.get("/v1/me/aliases", headers=consumer.headers).json()["aliases"]
    assert [r["email"] for r in read.json()["released_identities"]] == [alias["address"]]
    assert consumer.email not in read.text


def test_the_api_documents_the_password_it_asks_for(http: TestClient) -> None:
    spec = http.get("/openapi.json").json()
    erase_op = spec["paths"]["/v1/me"]["delete"]
    assert erase_op["requestBody"]["required"] is True
    assert "403" in erase_op["responses"]
    accept_op = spec["paths"]["/v1/me/offers/{offer_id}/accept"]["post"]
    assert "403" in accept_op["responses"]
    assert "password" in spec["components"]["schemas"]["AcceptIn"]["properties"]


def test_accepting_a_request_to_release_identity_needs_the_password(
    http: TestClient, runtime: Runtime
) -> None:
    """The same as an identity-releasing offer, for a supplier's request: a stolen session grants nothing."""
    consumer = make_consumer(http)
    shop = make_supplier(runtime)
    publish(http, shop, ["marketing"], ["identity", "contact"])
    asked = http.post(
        "/v1/requests",
        json={
            "pseudonym": pseudonym_for(http, consumer, shop),
            "purpose": "marketing",
            "categories": ["identity", "contact"],
            "release_kind": "identity_release",
            "expires_at": later(),
        },
        headers=shop.headers(http),
    )
    assert asked.status_code == 201, asked.text
    path = f"/v1/me/inbox/{asked.json()['id']}/accept"
    for attempt in ({}, {"json": {"password": WRONG}}):
        refused = http.post(path, headers=consumer.headers, **attempt)  # type: ignore[arg-type]
        assert refused.status_code == 403, refused.text
        assert refused.json()["type"].endswith("reauthentication-failed")
    # Nothing was granted: the supplier's request is still pending, and the consumer's inbox still holds it.
    request_path = f"/v1/requests/{asked.json()['id']}"
    assert http.get(request_path, headers=shop.headers(http)).json()["status"] == "pending"
    assert len(http.get("/v1/me/inbox", headers=consumer.headers).json()["items"]) == 1
    accepted = http.post(path, headers=consumer.headers, json={"password": PASSWORD})
    assert accepted.status_code == 200, accepted.text
    assert (
        http.get(f"/v1/requests/{asked.json()['id']}", headers=shop.headers(http)).json()["status"]
        == "accepted"
    )
