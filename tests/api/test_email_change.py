"""Changing the login address: a new address changes nothing until the link mailed to it is followed, the
current address is told, and the answer is the same whether or not another account has the new one (whose
owner is told someone tried). The link works once, expires, and only the newest one works."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from infomediary.customers.models import AccountToken
from infomediary.customers.tokens import CHANGE_EMAIL
from infomediary.database import unit_of_work
from infomediary.runtime import Runtime
from tests.fixtures.actors import PASSWORD, Consumer, make_consumer
from tests.fixtures.mail import last_token, messages_to, text_of

CHANGE_PATH = "/change-email"


def _login(http: TestClient, email: str, password: str = PASSWORD) -> int:
    return http.post("/v1/session", json={"email": email, "password": password}).status_code


def _confirm(http: TestClient, token: str, password: str = PASSWORD, **extra: Any) -> Any:
    body = {"token": token, "password": password, **extra}
    return http.post("/v1/accounts/email-change/confirm", json=body)


def _email(http: TestClient, consumer: Consumer) -> Any:
    fields = http.get("/v1/me/profile", headers=consumer.headers).json()["fields"]
    return next(f["value"] for f in fields if f["key"] == "email")


def _ask(http: TestClient, consumer: Consumer, **changes: Any) -> Any:
    return http.patch("/v1/me/profile", headers=consumer.headers, json=changes)


def _links_to(runtime: Runtime, address: str) -> list[str]:
    return [text_of(m) for m in messages_to(runtime, address) if CHANGE_PATH + "?token=" in text_of(m)]


def _expire_links(runtime: Runtime) -> None:
    with unit_of_work(runtime.session_factory) as session:
        session.execute(update(AccountToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))


def test_a_new_address_logs_in_only_once_its_link_is_followed(http: TestClient, runtime: Runtime) -> None:
    ada = make_consumer(http, email="ada@example.org")
    asked = _ask(http, ada, email="ada.new@example.org", given_name="Ada")
    assert asked.status_code == 200, asked.text
    assert "check your mail at the new address" in asked.json()["email_change"]["detail"].lower()
    # The other fields of the same request changed at once; the address did not.
    fields = {f["key"]: f["value"] for f in asked.json()["fields"]}
    assert fields["given_name"] == "Ada" and fields["email"] == "ada@example.org"
    assert _login(http, "ada@example.org") == 200 and _login(http, "ada.new@example.org") == 401

    [notice] = [m for m in messages_to(runtime, "ada@example.org") if "being changed" in str(m["Subject"])]
    assert "ada.new@example.org" in text_of(notice) and "/forgot-password" in text_of(notice)
    assert "token=" not in text_of(notice)

    token = last_token(runtime, "ada.new@example.org", CHANGE_PATH)
    assert _confirm(http, token).status_code == 204
    assert _login(http, "ada@example.org") == 401 and _login(http, "ada.new@example.org") == 200
    assert _email(http, ada) == "ada.new@example.org"
    history = http.get("/v1/me/profile/history", headers=ada.headers).json()["items"]
    assert {"field": "email", "old": "ada@example.org", "new": "ada.new@example.org"}.items() <= history[
        -1
    ].items()

    again = _confirm(http, token)
    assert again.status_code == 400 and again.json()["type"].endswith("link-invalid")


def test_a_taken_address_gets_the_same_answer_and_only_its_owner_hears_of_it(
    http: TestClient, runtime: Runtime
) -> None:
    ada = make_consumer(http, email="ada@example.org")
    grace = make_consumer(http, email="grace@example.org")
    bob = make_consumer(http, email="bob@example.org")
    taken = _ask(http, ada, email="GRACE@example.org")
    free = _ask(http, bob, email="bob.new@example.org")
    assert taken.status_code == free.status_code == 200
    assert taken.headers["content-type"] == free.headers["content-type"]
    assert taken.json()["email_change"] == free.json()["email_change"] is not None
    assert set(taken.json()) == set(free.json())

    tried = messages_to(runtime, "grace@example.org")[-1]
    assert "Someone tried to use your address" in str(tried["Subject"])
    assert "token=" not in text_of(tried) and "ada" not in text_of(tried)
    assert _links_to(runtime, "grace@example.org") == []
    # Her current address is told either way: what it receives does not say whether the new one is taken.
    assert any("being changed" in str(m["Subject"]) for m in messages_to(runtime, "ada@example.org"))

    # Nothing changed: each signs in as before, and Ada's address is hers still.
    assert _login(http, "ada@example.org") == 200 and _login(http, "grace@example.org") == 200
    assert _email(http, ada) == "ada@example.org" and _email(http, grace) == "grace@example.org"


def test_an_expired_link_changes_nothing(http: TestClient, runtime: Runtime) -> None:
    ada = make_consumer(http, email="ada@example.org")
    _ask(http, ada, email="ada.new@example.org")
    token = last_token(runtime, "ada.new@example.org", CHANGE_PATH)
    _expire_links(runtime)
    expired = _confirm(http, token)
    assert expired.status_code == 400 and expired.json()["type"].endswith("link-invalid")
    assert _login(http, "ada@example.org") == 200 and _login(http, "ada.new@example.org") == 401
    assert _email(http, ada) == "ada@example.org"


def test_only_the_newest_change_can_be_confirmed(http: TestClient, runtime: Runtime) -> None:
    ada = make_consumer(http, email="ada@example.org")
    _ask(http, ada, email="first@example.org")
    first = last_token(runtime, "first@example.org", CHANGE_PATH)
    _ask(http, ada, email="second@example.org")
    assert _confirm(http, first).status_code == 400
    assert _confirm(http, last_token(runtime, "second@example.org", CHANGE_PATH)).status_code == 204
    assert _login(http, "second@example.org") == 200 and _login(http, "first@example.org") == 401


def test_an_address_registered_meanwhile_is_refused_and_nothing_changes(
    http: TestClient, runtime: Runtime
) -> None:
    ada = make_consumer(http, email="ada@example.org")
    _ask(http, ada, email="ada.new@example.org")
    token = last_token(runtime, "ada.new@example.org", CHANGE_PATH)
    make_consumer(http, email="ada.new@example.org")
    refused = _confirm(http, token)
    assert refused.status_code == 409 and refused.json()["type"].endswith("new-address-taken")
    assert _login(http, "ada@example.org") == 200
    assert _email(http, ada) == "ada@example.org"


def test_a_new_password_cancels_a_pending_change(http: TestClient, runtime: Runtime) -> None:
    """The notice to the old address says so: a thief's change dies with the password she sets."""
    ada = make_consumer(http, email="ada@example.org")
    _ask(http, ada, email="thief@example.org")
    token = last_token(runtime, "thief@example.org", CHANGE_PATH)
    http.post("/v1/accounts/password-reset", json={"email": "ada@example.org"})
    reset = last_token(runtime, "ada@example.org", "/reset-password")
    body = {"token": reset, "new_password": "a new and rather long passphrase"}
    assert http.post("/v1/accounts/password-reset/complete", json=body).status_code == 204
    assert _confirm(http, token).status_code == 400
    assert _login(http, "thief@example.org", "a new and rather long passphrase") == 401


@pytest.mark.parametrize("written", ["ada@example.org", "ADA@example.org"])
def test_her_own_address_needs_no_link(http: TestClient, runtime: Runtime, written: str) -> None:
    ada = make_consumer(http, email="ada@example.org")
    kept = _ask(http, ada, email=written)
    assert kept.status_code == 200 and kept.json()["email_change"] is None
    assert _email(http, ada) == written and _links_to(runtime, written) == []
    assert _login(http, written) == 200


def test_the_pending_address_is_sealed(http: TestClient, runtime: Runtime) -> None:
    ada = make_consumer(http, email="ada@example.org")
    _ask(http, ada, email="ada.new@example.org")
    with runtime.session_factory() as session:
        [payload] = session.scalars(
            select(AccountToken.payload).where(
                AccountToken.customer_id == ada.id, AccountToken.purpose == CHANGE_EMAIL
            )
        ).all()
    assert payload is not None and b"ada.new" not in payload


def test_the_link_alone_does_not_move_the_login_without_her_password(
    http: TestClient, runtime: Runtime
) -> None:
    """A stolen session can ask for a new address and read the link in its own mailbox; it cannot confirm
    without her password, and its wrong guesses count like failed logins."""
    ada = make_consumer(http, email="ada@example.org")
    assert _ask(http, ada, email="thief@example.org").status_code == 200
    [link] = _links_to(runtime, "thief@example.org")
    token = last_token(runtime, "thief@example.org", CHANGE_PATH)
    assert token in link
    missing = http.post("/v1/accounts/email-change/confirm", json={"token": token})
    assert missing.status_code == 422
    wrong = _confirm(http, token, password="not her password at all")
    assert wrong.status_code == 403 and wrong.json()["type"].endswith("reauthentication-failed")
    assert _login(http, "ada@example.org") == 200 and _login(http, "thief@example.org") == 401
    # The link still works for her, with her password.
    assert _confirm(http, token).status_code == 204
    assert _login(http, "thief@example.org") == 200
