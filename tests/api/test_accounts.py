"""Consumers register, confirm their address, log in and out, change their password; registering and failed
logins are throttled without revealing whether an email is registered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from infomediary.customers.models import ConsumerSession
from infomediary.database import unit_of_work
from infomediary.flows import account_registered
from infomediary.runtime import Runtime
from tests.fixtures.actors import PASSWORD, make_consumer
from tests.fixtures.mail import last_token, messages_to


def _login(http: TestClient, email: str, password: str) -> object:
    return http.post("/v1/session", json={"email": email, "password": password})


def _comparable(problem: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in problem.items() if k != "request_id"}


def _confirm(http: TestClient, runtime: Runtime, email: str) -> None:
    token = last_token(runtime, email, "/verify-email")
    assert http.post("/v1/accounts/verify", json={"token": token}).status_code == 204


def test_register_confirm_then_log_in_returns_a_bearer_token_and_a_session_cookie(
    http: TestClient, runtime: Runtime
) -> None:
    created = http.post("/v1/accounts", json={"email": "ada@example.org", "password": PASSWORD})
    assert created.status_code == 202
    assert set(created.json()) == {"detail"}  # no account id: the answer is the same for a taken address
    unconfirmed = _login(http, "ada@example.org", PASSWORD)
    assert unconfirmed.status_code == 403
    assert unconfirmed.json()["type"].endswith("email-not-verified")
    assert "set-cookie" not in unconfirmed.headers
    _confirm(http, runtime, "ada@example.org")
    response = _login(http, "ada@example.org", PASSWORD)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0 and len(body["access_token"]) >= 40
    cookie = response.headers["set-cookie"].lower()
    assert "infomediary_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie  # plain http on loopback
    me = http.get("/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json()["id"].startswith("cus_")


def test_cookie_is_secure_over_https(app: object, http: TestClient) -> None:
    make_consumer(http, email="sec@example.org")
    with TestClient(app, base_url="https://127.0.0.1") as https:  # type: ignore[arg-type]
        response = _login(https, "sec@example.org", PASSWORD)
    assert "secure" in response.headers["set-cookie"].lower()


def test_email_is_case_and_space_insensitive_for_login_and_duplicates(
    http: TestClient, runtime: Runtime
) -> None:
    make_consumer(http, email="Grace@Example.org")
    assert _login(http, "GRACE@example.ORG", PASSWORD).status_code == 200
    assert _login(http, "grace@example.org", PASSWORD).status_code == 200
    fresh = http.post("/v1/accounts", json={"email": "someone-new@example.org", "password": PASSWORD})
    duplicate = http.post("/v1/accounts", json={"email": "GRACE@example.org", "password": PASSWORD})
    # The same answer as for a new address; the owner of the address is told instead.
    assert duplicate.status_code == fresh.status_code == 202
    assert duplicate.json() == fresh.json()
    welcome, *_, notice = messages_to(runtime, "grace@example.org")
    assert "Confirm your address" in str(welcome["Subject"])
    assert "Someone tried to register" in str(notice["Subject"])


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"email": "not-an-email", "password": PASSWORD}, "/body/email"),
        ({"email": "a@example.org", "password": "short"}, "/body/password"),
        ({"email": "a@example.org", "password": "x" * 257}, "/body/password"),
        ({"email": "a@example.org"}, "/body/password"),
        ({"email": "a@example.org", "password": PASSWORD, "admin": True}, "/body/admin"),
    ],
)
def test_invalid_registration_is_a_422_problem_that_changes_nothing(
    http: TestClient, body: dict[str, object], pointer: str
) -> None:
    response = http.post("/v1/accounts", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert [e["pointer"] for e in problem["errors"]] == [pointer]
    assert PASSWORD not in response.text  # rejected input is never echoed
    assert _login(http, "a@example.org", PASSWORD).status_code == 401


def test_wrong_password_and_unknown_email_get_the_identical_answer(http: TestClient) -> None:
    make_consumer(http, email="known@example.org")
    wrong = _login(http, "known@example.org", "wrong password here")
    unknown = _login(http, "nobody@example.org", "wrong password here")
    assert wrong.status_code == unknown.status_code == 401
    assert _comparable(wrong.json()) == _comparable(unknown.json())
    assert wrong.headers.get("www-authenticate") == unknown.headers.get("www-authenticate")


def test_failed_logins_are_throttled_per_account_even_for_the_right_password(
    http: TestClient, runtime: Runtime
) -> None:
    make_consumer(http, email="target@example.org")
    limit = runtime.settings.login_max_failures_per_account
    for _ in range(limit):
        assert _login(http, "target@example.org", "guess guess guess").status_code == 401
    blocked = _login(http, "target@example.org", PASSWORD)
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert blocked.json()["type"].endswith("login-throttled")


def test_unknown_emails_are_throttled_exactly_like_known_ones(http: TestClient, runtime: Runtime) -> None:
    make_consumer(http, email="real@example.org")
    limit = runtime.settings.login_max_failures_per_account
    answers = {}
    for email in ("real@example.org", "ghost@example.org"):
        codes = [_login(http, email, "guess guess guess").status_code for _ in range(limit + 1)]
        answers[email] = codes
    assert answers["real@example.org"] == answers["ghost@example.org"] == [401] * limit + [429]


def test_failed_logins_are_throttled_per_client_address(http: TestClient, runtime: Runtime) -> None:
    limit = runtime.settings.login_max_failures_per_address
    codes = [_login(http, f"spray{i}@example.org", "guess guess guess").status_code for i in range(limit + 1)]
    assert codes[:limit] == [401] * limit
    assert codes[limit] == 429


def test_a_successful_login_resets_the_account_counter(http: TestClient, runtime: Runtime) -> None:
    make_consumer(http, email="forgetful@example.org")
    for _ in range(runtime.settings.login_max_failures_per_account - 1):
        _login(http, "forgetful@example.org", "guess guess guess")
    assert _login(http, "forgetful@example.org", PASSWORD).status_code == 200
    assert _login(http, "forgetful@example.org", "guess guess guess").status_code == 401
    assert _login(http, "forgetful@example.org", PASSWORD).status_code == 200


def test_log_out_revokes_the_session(http: TestClient) -> None:
    consumer = make_consumer(http)
    assert http.delete("/v1/session", headers=consumer.headers).status_code == 204
    assert http.get("/v1/me", headers=consumer.headers).status_code == 401
    assert http.delete("/v1/session", headers=consumer.headers).status_code == 401


def test_log_out_with_the_cookie(http: TestClient) -> None:
    consumer = make_consumer(http)
    http.cookies.set("infomediary_session", consumer.token)
    assert http.delete("/v1/session").status_code == 204
    http.cookies.clear()
    assert http.get("/v1/me", headers=consumer.headers).status_code == 401


def test_change_password_ends_other_sessions_and_the_old_password(http: TestClient) -> None:
    consumer = make_consumer(http)
    other = _login(http, consumer.email, PASSWORD).json()["access_token"]
    new_password = "a completely new passphrase"
    changed = http.post(
        "/v1/me/password",
        json={"current_password": PASSWORD, "new_password": new_password},
        headers=consumer.headers,
    )
    assert changed.status_code == 204
    assert http.get("/v1/me", headers=consumer.headers).status_code == 200
    assert http.get("/v1/me", headers={"Authorization": f"Bearer {other}"}).status_code == 401
    assert _login(http, consumer.email, PASSWORD).status_code == 401
    assert _login(http, consumer.email, new_password).status_code == 200


def test_change_password_needs_the_current_one(http: TestClient) -> None:
    consumer = make_consumer(http)
    response = http.post(
        "/v1/me/password",
        json={"current_password": "not my password", "new_password": "another long passphrase"},
        headers=consumer.headers,
    )
    # 403, not 401: the session is fine, only the proof is missing (a 401 would read as "log in again").
    assert response.status_code == 403
    assert response.json()["type"].endswith("reauthentication-failed")
    assert _login(http, consumer.email, PASSWORD).status_code == 200


def test_me_routes_need_a_session(http: TestClient) -> None:
    response = http.get("/v1/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert http.get("/v1/me", headers={"Authorization": "Bearer forged"}).status_code == 401


def test_a_session_token_stops_working_when_the_session_expires(http: TestClient, runtime: Runtime) -> None:
    expiring, lasting = make_consumer(http), make_consumer(http)
    with unit_of_work(runtime.session_factory) as session:
        session.execute(
            update(ConsumerSession)
            .where(ConsumerSession.customer_id == expiring.id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )

    refused = http.get("/v1/me", headers={"Authorization": f"Bearer {expiring.token}"})
    served = http.get("/v1/me", headers={"Authorization": f"Bearer {lasting.token}"})

    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert served.status_code == 200 and served.json()["id"] == lasting.shown_id


def test_a_registration_that_rolled_back_leaves_its_address_free(http: TestClient, runtime: Runtime) -> None:
    """The address is bound in the erasure key store, outside the database transaction: a registration whose
    transaction failed leaves a name bound to an account that does not exist, which must not lock the
    address out; a live account's address stays taken."""

    session = runtime.session_factory()
    try:
        account_registered.register(session, runtime, email="again@example.org", password=PASSWORD)
    finally:
        session.rollback()
        session.close()
    assert messages_to(runtime, "again@example.org") == []  # no link to an account that never was
    first = http.post("/v1/accounts", json={"email": "again@example.org", "password": PASSWORD})
    assert first.status_code == 202, first.text
    second = http.post("/v1/accounts", json={"email": "again@example.org", "password": PASSWORD})
    assert second.status_code == 202
    # The live account is the first one: the second registration only told its owner.
    assert "Someone tried" in str(messages_to(runtime, "again@example.org")[-1]["Subject"])
    _confirm(http, runtime, "again@example.org")
    login = http.post("/v1/session", json={"email": "again@example.org", "password": PASSWORD})
    assert login.status_code == 200
