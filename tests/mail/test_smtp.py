"""The SMTP transport against a real server on loopback: STARTTLS and authentication as a relay asks, a
message accepted whole, and failures logged without the address, the subject or the relay's reply."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infomediary.mail import transport as transport_module
from infomediary.mail.message import compose
from infomediary.mail.transport import SmtpTransport
from infomediary.settings import Settings
from tests.fixtures.smtp import RELAY_PASSWORD, USERNAME, free_port, smtp_server
from tests.mail.conftest import Logged

TO = "Quentin.Relaytest@example.org"
TOKEN = "tok-Flamingo-Verdigris-7731"


def _mail() -> object:
    return compose(
        kind="verify-email",
        sender="Infomediary <no-reply@infomediary.example>",
        to=TO,
        subject="Confirm your address",
        text=f"Follow https://infomediary.example/verify-email?token={TOKEN}\n",
    )


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(data_dir=tmp_path, **values)  # type: ignore[arg-type]


def test_a_message_goes_through_starttls_and_authentication(tmp_path: Path) -> None:
    with smtp_server(tmp_path) as server:
        transport = SmtpTransport(
            _settings(
                tmp_path,
                mail_smtp_host=server.host,
                mail_smtp_port=server.port,
                mail_smtp_ca_file=server.ca_file,
                mail_smtp_username=USERNAME,
                mail_smtp_password=RELAY_PASSWORD,
            )
        )
        transport.deliver(_mail())  # type: ignore[arg-type]
        [received] = server.inbox.wait_for(TO)
        transport.close()
    assert received.rcpt_tos == [TO] and received.mail_from == "no-reply@infomediary.example"
    assert received.authenticated_as == USERNAME
    assert TOKEN in received.message.get_content()


def _failing_send(tmp_path: Path, logged: Logged, **values: object) -> dict[str, Any]:
    """The transport's one log line about failing to send the message; nothing in the log names anyone."""
    transport = SmtpTransport(_settings(tmp_path, **values))
    transport.deliver(_mail())  # type: ignore[arg-type]
    transport.close()  # waits for the attempts
    lines, text = logged()
    for secret in (TO, TO.lower(), TOKEN, RELAY_PASSWORD, "not the password", "Confirm your address"):
        assert secret not in text
    [line] = [entry for entry in lines if entry["event"] == "mail.not_sent"]
    assert line["kind"] == "verify-email" and line["level"] == "warning"
    return line


def test_a_relay_whose_certificate_is_not_trusted_gets_nothing_and_the_log_says_only_why(
    tmp_path: Path, logged: Logged
) -> None:
    with smtp_server(tmp_path) as server:
        line = _failing_send(
            tmp_path,
            logged,
            mail_smtp_host=server.host,
            mail_smtp_port=server.port,
            mail_smtp_username=USERNAME,
            mail_smtp_password=RELAY_PASSWORD,
        )
        assert server.inbox.received == []
    # A certificate does not get better by waiting: one attempt.
    assert (line["error"], line["attempts"]) == ("SSLCertVerificationError", 1)


def test_wrong_credentials_are_not_tried_again(tmp_path: Path, logged: Logged) -> None:
    with smtp_server(tmp_path) as server:
        line = _failing_send(
            tmp_path,
            logged,
            mail_smtp_host=server.host,
            mail_smtp_port=server.port,
            mail_smtp_ca_file=server.ca_file,
            mail_smtp_username=USERNAME,
            mail_smtp_password="not the password",
        )
        assert server.inbox.received == []
    assert (line["error"], line["smtp_code"], line["attempts"]) == ("SMTPAuthenticationError", 535, 1)


def test_a_relay_that_is_down_is_tried_a_few_times_then_given_up(
    tmp_path: Path, logged: Logged, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transport_module, "BACKOFF_SECONDS", (0.01, 0.01))
    line = _failing_send(
        tmp_path, logged, mail_smtp_host="127.0.0.1", mail_smtp_port=free_port(), mail_smtp_starttls=False
    )
    assert (line["error"], line["attempts"]) == ("ConnectionRefusedError", transport_module.ATTEMPTS)
