"""WrappedKey's one-column binary format."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vault import DecryptionFailed, WrappedKey


@given(st.integers(1, 2**32 - 1), st.binary(min_size=1, max_size=128))
def test_round_trip(version: int, ciphertext: bytes) -> None:
    wrapped = WrappedKey(kek_version=version, ciphertext=ciphertext)
    assert WrappedKey.from_bytes(wrapped.to_bytes()) == wrapped


def test_layout_is_format_byte_version_ciphertext() -> None:
    assert WrappedKey(kek_version=258, ciphertext=b"ct").to_bytes() == b"\x01\x00\x00\x01\x02ct"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "truncated"),
        (b"\x01\x00\x00\x00\x01", "truncated"),
        (b"\x02\x00\x00\x00\x01ct", "unsupported format 2"),
        (b"\x01\x00\x00\x00\x00ct", "version 0"),
    ],
)
def test_malformed_bytes_are_rejected(data: bytes, reason: str) -> None:
    with pytest.raises(DecryptionFailed, match=reason):
        WrappedKey.from_bytes(data)


@pytest.mark.parametrize(("version", "ciphertext"), [(0, b"ct"), (2**32, b"ct"), (1, b"")])
def test_invalid_fields_are_rejected(version: int, ciphertext: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 -- the message varies by field; the type is the contract
        WrappedKey(kek_version=version, ciphertext=ciphertext)
