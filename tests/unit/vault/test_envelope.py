"""The field ciphertext format: round trips, and every kind of tampering is detected."""

from __future__ import annotations

import pytest
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
    open_,
    seal,
)

CIPHER = AESGCM(bytes(range(32)))
AAD = field_aad("subject-1", "email", 1)


def test_generate_data_key_is_256_bits_and_fresh() -> None:
    keys = {generate_data_key() for _ in range(64)}
    assert len(keys) == 64
    assert all(len(key) == 32 for key in keys)


@given(st.binary(max_size=1024), st.binary(max_size=64))
def test_round_trip(plaintext: bytes, aad: bytes) -> None:
    assert open_(CIPHER, seal(CIPHER, plaintext, aad), aad) == plaintext


def test_layout_is_format_byte_nonce_ciphertext_tag() -> None:
    sealed = seal(CIPHER, b"hello", AAD)
    assert sealed[0] == FORMAT_V1
    assert len(sealed) == 1 + NONCE_BYTES + len(b"hello") + TAG_BYTES
    assert b"hello" not in sealed


def test_nonces_are_fresh_so_equal_plaintexts_differ() -> None:
    sealed = {seal(CIPHER, b"same", AAD) for _ in range(64)}
    assert len(sealed) == 64
    assert len({s[1 : 1 + NONCE_BYTES] for s in sealed}) == 64


def test_every_flipped_bit_is_detected() -> None:
    sealed = seal(CIPHER, b"a realistic value", AAD)
    for index in range(len(sealed)):
        for bit in range(8):
            tampered = bytearray(sealed)
            tampered[index] ^= 1 << bit
            with pytest.raises(DecryptionFailed):
                open_(CIPHER, bytes(tampered), AAD)


@pytest.mark.parametrize("length", [0, 1, NONCE_BYTES, 1 + NONCE_BYTES + TAG_BYTES - 1])
def test_truncated_ciphertext_is_rejected(length: int) -> None:
    sealed = seal(CIPHER, b"", AAD)
    with pytest.raises(DecryptionFailed, match="truncated"):
        open_(CIPHER, sealed[:length], AAD)


def test_unknown_format_byte_is_rejected() -> None:
    sealed = seal(CIPHER, b"x", AAD)
    with pytest.raises(DecryptionFailed, match="unsupported ciphertext format 2"):
        open_(CIPHER, b"\x02" + sealed[1:], AAD)


def test_wrong_key_is_rejected() -> None:
    sealed = seal(CIPHER, b"x", AAD)
    with pytest.raises(DecryptionFailed):
        open_(AESGCM(generate_data_key()), sealed, AAD)


def test_other_associated_data_is_rejected() -> None:
    sealed = seal(CIPHER, b"x", AAD)
    with pytest.raises(DecryptionFailed):
        open_(CIPHER, sealed, field_aad("subject-1", "email", 2))


def test_failure_message_never_contains_plaintext() -> None:
    secret = b"very-secret-value"
    sealed = seal(CIPHER, secret, AAD)
    with pytest.raises(DecryptionFailed) as caught:
        open_(CIPHER, sealed, b"other")
    assert "very-secret-value" not in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_subject_cipher_matches_the_functional_api_and_hides_its_key() -> None:
    data_key = generate_data_key()
    subject = SubjectCipher("subject-1", data_key)
    sealed = subject.seal("email", b"value", 1)
    assert open_(AESGCM(data_key), sealed, AAD) == b"value"
    assert subject.open("email", seal(AESGCM(data_key), b"value", AAD), 1) == b"value"
    assert data_key.hex() not in repr(subject)
    with pytest.raises(DecryptionFailed, match="subject 'subject-1', field 'phone'"):
        subject.open("phone", sealed, 1)


def test_subject_cipher_refuses_a_key_of_the_wrong_length() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        SubjectCipher("subject-1", bytes(16))
