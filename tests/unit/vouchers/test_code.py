"""Voucher codes: 128 bits out and back however a person types them, and a typo caught by the check."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infomediary.vouchers import code

SHOWN = re.compile(r"VCH(-[0-9A-HJKMNP-TV-Z]{4}){7}")
SECRETS = st.binary(min_size=code.CODE_BYTES, max_size=code.CODE_BYTES)


@given(SECRETS)
def test_a_code_reads_back_as_its_bytes_however_it_is_typed(secret: bytes) -> None:
    shown = code.render(secret)
    assert SHOWN.fullmatch(shown)
    assert len(shown) <= code.MAX_TYPED_LENGTH
    for typed in (shown, shown.lower(), shown.replace("-", " "), shown.removeprefix("VCH-"), f"  {shown} "):
        assert code.parse(typed) == secret
    # Letters a person mistakes for digits are read as those digits.
    assert code.parse(shown.replace("0", "O").replace("1", "l")) == secret


@given(SECRETS, st.integers(min_value=4, max_value=37), st.sampled_from("0123456789ABCDEFGHJKMNPQRSTVWXYZ"))
def test_a_changed_character_is_caught_or_names_another_code(secret: bytes, at: int, new: str) -> None:
    shown = code.render(secret)
    if shown[at] in "-" or shown[at] == new:
        return
    typo = shown[:at] + new + shown[at + 1 :]
    try:
        other = code.parse(typo)
    except code.MalformedCode:
        return
    # Passing the check (one time in about a thousand) it is another voucher's code, never this one.
    assert other != secret


@pytest.mark.parametrize(
    "typed", ["", "VCH-", "VCH-1234", "VCH-UUUU-UUUU-UUUU-UUUU-UUUU-UUUU-UUUU", "not a code at all"]
)
def test_what_cannot_be_a_code_is_malformed(typed: str) -> None:
    with pytest.raises(code.MalformedCode):
        code.parse(typed)


def test_the_top_bits_beyond_128_are_refused() -> None:
    # 26 digits hold 130 bits: a first digit above 3 would need more than 16 bytes.
    with pytest.raises(code.MalformedCode):
        code.parse("VCH-" + "Z" * 28)


def test_the_stored_hash_depends_on_the_key() -> None:
    secret = code.new_secret()
    assert code.code_hash(b"a" * 32, secret) != code.code_hash(b"b" * 32, secret)
    assert len(code.code_hash(b"a" * 32, secret)) == 32
