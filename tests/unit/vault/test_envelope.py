"""The field ciphertext format: round trips, and every kind of tampering is detected."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given
from hypothesis import strategies as st

from vault import DecryptionFailed
from vault.envelope import (
    FORMAT_V1,
    NONCE_BYTES,
    TAG_BYTES,
    SubjectCipher,
    field_aad,
    generate_data_key,
)

DATA_KEY = bytes(range(32))
CIPHER = SubjectCipher("subject-1", DATA_KEY)


def spec_open(data_key: bytes, sealed: bytes, subject_id: str, field: str, schema_version: int) -> bytes:
    """Format 1 read from its description, independently of the vault: format byte, nonce, AES-GCM body,
    with the format byte prepended to the field's associated data."""
    assert sealed[0] == FORMAT_V1
    aad = bytes((FORMAT_V1,)) + field_aad(subject_id, field, schema_version)
    return AESGCM(data_key).decrypt(sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :], aad)


def test_generate_data_key_is_256_bits_and_fresh() -> None:
    keys = {generate_data_key() for _ in range(64)}
    assert len(keys) == 64
    assert all(len(key) == 32 for key in keys)


@given(
    st.binary(max_size=1024),
    st.text(min_size=1, max_size=40),
    st.text(min_size=1, max_size=40),
    st.integers(min_value=0, max_value=2**32 - 1),
)
def test_round_trip(plaintext: bytes, subject_id: str, field: str, schema_version: int) -> None:
    subject = SubjectCipher(subject_id, DATA_KEY)
    sealed = subject.seal(field, plaintext, schema_version)
    assert subject.open(field, sealed, schema_version) == plaintext
    assert spec_open(DATA_KEY, sealed, subject_id, field, schema_version) == plaintext


def test_layout_is_format_byte_nonce_ciphertext_tag() -> None:
    sealed = CIPHER.seal("email", b"hello", 1)
    assert sealed[0] == FORMAT_V1
    assert len(sealed) == 1 + NONCE_BYTES + len(b"hello") + TAG_BYTES
    assert b"hello" not in sealed
    assert spec_open(DATA_KEY, sealed, "subject-1", "email", 1) == b"hello"


def test_the_format_byte_is_authenticated() -> None:
    sealed = CIPHER.seal("email", b"hello", 1)
    unbound = field_aad("subject-1", "email", 1)
    with pytest.raises(InvalidTag):
        AESGCM(DATA_KEY).decrypt(sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :], unbound)


def test_nonces_are_fresh_so_equal_plaintexts_differ() -> None:
    sealed = {CIPHER.seal("email", b"same", 1) for _ in range(64)}
    assert len(sealed) == 64
    assert len({s[1 : 1 + NONCE_BYTES] for s in sealed}) == 64


def test_every_flipped_bit_is_detected() -> None:
    sealed = CIPHER.seal("email", b"a realistic value", 1)
    for index in range(len(sealed)):
        for bit in range(8):
            tampered = bytearray(sealed)
            tampered[index] ^= 1 << bit
            with pytest.raises(DecryptionFailed):
                CIPHER.open("email", bytes(tampered), 1)


@pytest.mark.parametrize("length", [0, 1, NONCE_BYTES, 1 + NONCE_BYTES + TAG_BYTES - 1])
def test_truncated_ciphertext_is_rejected(length: int) -> None:
    sealed = CIPHER.seal("email", b"", 1)
    with pytest.raises(DecryptionFailed, match="truncated"):
        CIPHER.open("email", sealed[:length], 1)


def test_unknown_format_byte_is_rejected() -> None:
    sealed = CIPHER.seal("email", b"x", 1)
    with pytest.raises(DecryptionFailed, match="unsupported ciphertext format 2"):
        CIPHER.open("email", b"\x02" + sealed[1:], 1)


def test_wrong_key_is_rejected() -> None:
    sealed = CIPHER.seal("email", b"x", 1)
    with pytest.raises(DecryptionFailed):
        SubjectCipher("subject-1", generate_data_key()).open("email", sealed, 1)


@pytest.mark.parametrize(
    ("subject_id", "field", "schema_version"),
    [("subject-2", "email", 1), ("subject-1", "phone", 1), ("subject-1", "email", 2)],
)
def test_other_associated_data_is_rejected(subject_id: str, field: str, schema_version: int) -> None:
    sealed = CIPHER.seal("email", b"x", 1)
    with pytest.raises(DecryptionFailed):
        SubjectCipher(subject_id, DATA_KEY).open(field, sealed, schema_version)


def test_failure_names_subject_and_field_and_never_contains_plaintext() -> None:
    secret = b"very-secret-value"
    sealed = CIPHER.seal("email", secret, 1)
    with pytest.raises(DecryptionFailed, match="subject 'subject-1', field 'phone'") as caught:
        CIPHER.open("phone", sealed, 1)
    assert "very-secret-value" not in str(caught.value)
    assert caught.value.subject_id == "subject-1"
    assert caught.value.field == "phone"
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__
    with pytest.raises(DecryptionFailed, match=r"subject 'subject-1', field 'email'.*truncated"):
        CIPHER.open("email", sealed[:5], 1)


def test_subject_cipher_hides_its_key() -> None:
    data_key = generate_data_key()
    subject = SubjectCipher("subject-1", data_key)
    assert data_key.hex() not in repr(subject)
    assert "subject-1" in repr(subject)


def test_field_associated_data_is_kept_per_schema_version() -> None:
    subject = SubjectCipher("subject-1", DATA_KEY)
    first = subject.seal("email", b"v1", 1)
    second = subject.seal("email", b"v2", 2)
    assert subject.open("email", first, 1) == b"v1"
    assert subject.open("email", second, 2) == b"v2"
    with pytest.raises(DecryptionFailed):
        subject.open("email", first, 2)


def test_subject_cipher_refuses_a_key_of_the_wrong_length() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        SubjectCipher("subject-1", bytes(16))
