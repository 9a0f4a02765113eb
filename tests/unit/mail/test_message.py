"""Messages: standard headers, no header of the caller's making, text beyond ASCII as quoted-printable."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infomediary.mail.message import compose, recipients
from infomediary.mail.spool import body

SENDER = "Infomediary <no-reply@infomediary.example>"


def test_a_message_has_the_standard_headers_and_the_text() -> None:
    mail = compose(kind="verify-email", sender=SENDER, to="ada@example.org", subject="Hello", text="Body\n")
    message = mail.message
    assert mail.kind == "verify-email"
    assert str(message["From"]) == SENDER and str(message["To"]) == "ada@example.org"
    assert str(message["Subject"]) == "Hello"
    assert message["Date"] and str(message["Message-ID"]).endswith("@infomediary.example>")
    assert str(message["Auto-Submitted"]) == "auto-generated"
    assert recipients(message) == ["ada@example.org"]
    assert body(message) == "Body\n"


def test_text_beyond_ascii_travels_as_quoted_printable_and_reads_back_whole() -> None:
    text = "Grüße, Zoë: https://example.org/verify-email?token=abc_DEF-123\n"
    message = compose(kind="k", sender=SENDER, to="zoe@example.org", subject="Grüße", text=text).message
    assert message["Content-Transfer-Encoding"] == "quoted-printable"
    assert message.as_bytes().isascii()
    assert body(message) == text


@pytest.mark.parametrize("field", ["to", "subject"])
@given(before=st.text(string.printable, max_size=20), after=st.text(string.printable, max_size=20))
def test_no_input_adds_a_header(field: str, before: str, after: str) -> None:
    """A line break in any input is refused, never turned into a header of its own (header injection)."""
    values = {"to": "ada@example.org", "subject": "Hello"}
    values[field] = f"{before}\r\nBcc: mallory@example.org{after}"
    with pytest.raises(ValueError, match="linefeed or carriage return"):
        compose(kind="k", sender=SENDER, text="Body", **values)
