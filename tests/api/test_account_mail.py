"""The account mails over SMTP, to a real server on loopback that asks for STARTTLS and authentication, as a
relay does: registration, the mail received, its link followed, then the log-in; the same answer for a
taken address, whose owner is told instead; a password reset by the link in its mail; a relay that is down.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from infomediary.mail import transport as transport_module
from infomediary.mail.transport import SmtpTransport
from infomediary.runtime import Runtime
from tests.conftest import ISSUER
from tests.fixtures.actors import PASSWORD
from tests.fixtures.mail import link_token
from tests.fixtures.runtimes import reconfigured
from tests.fixtures.smtp import RELAY_PASSWORD, USERNAME, Received, SmtpServer, free_port, smtp_server

NEW_PASSWORD = "a brand new passphrase for ada"


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[SmtpServer]:
    with smtp_server(tmp_path) as server:
        yield server


def _over_smtp(runtime: Runtime, **settings: object) -> Runtime:
    relayed = reconfigured(runtime, **settings)
    return dataclasses.replace(relayed, mail_transport=SmtpTransport(relayed.settings))


@pytest.fixture
def http(runtime: Runtime, relay: SmtpServer) -> Iterator[TestClient]:
    """The app with its mail going to the relay (the suite's own app keeps mail in memory)."""
    relayed = _over_smtp(
        runtime,
        mail_smtp_host=relay.host,
        mail_smtp_port=relay.port,
        mail_smtp_ca_file=relay.ca_file,
        mail_smtp_username=USERNAME,
        mail_smtp_password=RELAY_PASSWORD,
        mail_from="Infomediary <accounts@infomediary.example>",
    )
    with TestClient(create_app(runtime=relayed), base_url=ISSUER) as client:
        yield client


def _register(http: TestClient, email: str, password: str = PASSWORD) -> dict[str, object]:
    response = http.post("/v1/accounts", json={"email": email, "password": password})
    assert response.status_code == 202, response.text
    return {"status": response.status_code, "body": response.json()}


def _login(http: TestClient, email: str, password: str = PASSWORD) -> int:
    return http.post("/v1/session", json={"email": email, "password": password}).status_code


def test_registration_mail_arrives_over_smtp_and_its_link_opens_the_account(
    http: TestClient, relay: SmtpServer
) -> None:
    _register(http, "ada@example.org")
    [mail] = relay.inbox.wait_for("ada@example.org")
    assert mail.authenticated_as == USERNAME  # over STARTTLS: the relay refuses AUTH in the clear
    assert mail.mail_from == "accounts@infomediary.example"
    assert str(mail.message["To"]) == "ada@example.org"
    assert "Confirm your address" in str(mail.message["Subject"])
    assert _login(http, "ada@example.org") == 403  # not before the link

    token = link_token(mail.message, "/verify-email")
    page = http.get("/verify-email", params={"token": token}, headers={"accept": "text/html"})
    assert page.status_code == 200 and "Confirm my address" in page.text  # following the link changes nothing
    assert _login(http, "ada@example.org") == 403
    assert http.post("/v1/accounts/verify", json={"token": token}).status_code == 204
    assert _login(http, "ada@example.org") == 200


def test_a_taken_address_gets_the_same_answer_and_its_owner_a_notice(
    http: TestClient, relay: SmtpServer
) -> None:
    first = _register(http, "grace@example.org")
    [welcome] = relay.inbox.wait_for("grace@example.org")
    http.post("/v1/accounts/verify", json={"token": link_token(welcome.message, "/verify-email")})

    again = _register(http, "Grace@Example.org", "someone else's password")
    assert again == first
    notice: Received = relay.inbox.wait_for("grace@example.org", count=2)[1]
    assert "Someone tried to register" in str(notice.message["Subject"])
    text = notice.message.get_content()
    assert "/forgot-password" in text and "?token=" not in text  # no link that confirms or changes anything
    assert _login(http, "grace@example.org", "someone else's password") == 401
    assert _login(http, "grace@example.org") == 200


def test_a_forgotten_password_is_reset_by_the_mailed_link_once(http: TestClient, relay: SmtpServer) -> None:
    _register(http, "ada@example.org")
    [welcome] = relay.inbox.wait_for("ada@example.org")
    http.post("/v1/accounts/verify", json={"token": link_token(welcome.message, "/verify-email")})
    session = http.post("/v1/session", json={"email": "ada@example.org", "password": PASSWORD}).json()
    bearer = {"Authorization": f"Bearer {session['access_token']}"}

    asked = http.post("/v1/accounts/password-reset", json={"email": "ada@example.org"})
    nobody = http.post("/v1/accounts/password-reset", json={"email": "nobody@example.org"})
    assert asked.status_code == nobody.status_code == 202 and asked.json() == nobody.json()
    reset = relay.inbox.wait_for("ada@example.org", count=2)[1]
    assert "Set a new password" in str(reset.message["Subject"])
    token = link_token(reset.message, "/reset-password")

    body = {"token": token, "new_password": NEW_PASSWORD}
    assert http.post("/v1/accounts/password-reset/complete", json=body).status_code == 204
    assert http.get("/v1/me", headers=bearer).status_code == 401  # every session ended
    assert _login(http, "ada@example.org") == 401
    assert _login(http, "ada@example.org", NEW_PASSWORD) == 200
    used = http.post("/v1/accounts/password-reset/complete", json={**body, "new_password": "x" * 20})
    assert used.status_code == 400 and used.json()["type"].endswith("link-invalid")
    assert _login(http, "ada@example.org", NEW_PASSWORD) == 200
    # Nobody was mailed for the unknown address.
    assert all("nobody@example.org" not in r.rcpt_tos for r in relay.inbox.received)


def test_a_relay_that_is_down_fails_no_request_and_the_log_names_nobody(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(transport_module, "BACKOFF_SECONDS", (0.01, 0.01))
    down = _over_smtp(runtime, mail_smtp_host="127.0.0.1", mail_smtp_port=free_port())
    with TestClient(create_app(runtime=down), base_url=ISSUER) as http:
        capfd.readouterr()
        answer = http.post("/v1/accounts", json={"email": "quill@example.org", "password": PASSWORD})
        down.mail.close()  # waits for the attempts
    assert answer.status_code == 202
    captured = capfd.readouterr()
    logs = captured.out + captured.err
    failures = [json.loads(line) for line in logs.splitlines() if '"mail.not_sent"' in line]
    assert [(f["kind"], f["error"]) for f in failures] == [("verify-email", "ConnectionRefusedError")]
    assert "quill" not in logs and "token=" not in logs
