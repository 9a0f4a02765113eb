"""Which SMTP failures are worth another attempt, and which transport the settings choose."""

from __future__ import annotations

import smtplib
import ssl
from pathlib import Path

import pytest

from infomediary.mail.transport import SmtpTransport, SpoolTransport, transient, transport_for
from infomediary.settings import Settings


@pytest.mark.parametrize(
    ("error", "again"),
    [
        (smtplib.SMTPResponseException(421, b"try later"), True),
        (smtplib.SMTPDataError(451, b"local error"), True),
        (smtplib.SMTPRecipientsRefused({"a@example.org": (450, b"mailbox busy")}), True),
        (smtplib.SMTPServerDisconnected("gone"), True),
        (ConnectionRefusedError(), True),
        (TimeoutError(), True),
        (smtplib.SMTPDataError(554, b"rejected"), False),
        (smtplib.SMTPRecipientsRefused({"a@example.org": (550, b"no such user")}), False),
        (smtplib.SMTPAuthenticationError(535, b"bad credentials"), False),
        (smtplib.SMTPNotSupportedError("STARTTLS extension not supported by server."), False),
        (ssl.SSLCertVerificationError("certificate verify failed"), False),
    ],
)
def test_only_failures_that_may_pass_soon_are_tried_again(error: BaseException, again: bool) -> None:
    assert transient(error) is again


def test_settings_choose_the_relay_or_the_mail_directory(tmp_path: Path) -> None:
    embedded = transport_for(Settings(data_dir=tmp_path))
    assert isinstance(embedded, SpoolTransport) and embedded.directory == tmp_path / "mail"
    relay = transport_for(Settings(data_dir=tmp_path, mail_smtp_host="smtp.example.org"))
    assert isinstance(relay, SmtpTransport)
    assert (relay.host, relay.port, relay.starttls) == ("smtp.example.org", 587, True)
