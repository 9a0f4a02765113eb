"""Envelope encryption of one field: per-subject data keys, field associated data, and the ciphertext format.

Ciphertext format 1: one format byte, a 12-byte random nonce, then AES-256-GCM ciphertext and its 16-byte
tag. The format byte is authenticated too (it is prepended to the associated data), so a future format
cannot be downgraded to this one by editing a byte.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from vault.aad import encode_parts
from vault.errors import DecryptionFailed

DATA_KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
FORMAT_V1 = 0x01
_HEADER = bytes((FORMAT_V1,))
_MIN_LENGTH = len(_HEADER) + NONCE_BYTES + TAG_BYTES
_FIELD_LABEL = b"infomediary.vault.field.v1"
_MAX_SCHEMA_VERSION = 2**32 - 1


def generate_data_key() -> bytes:
    """A fresh random AES-256 data key, for one subject."""
    return AESGCM.generate_key(bit_length=256)


def field_aad(subject_id: str, field: str, schema_version: int) -> bytes:
    """Associated data binding a ciphertext to its subject, field and schema version.

    Length-prefixed, so no two different triples share associated data: a ciphertext moved to another
    subject, another field or another schema version fails to authenticate.
    """
    if not subject_id:
        raise ValueError("subject_id must not be empty")
    if not field:
        raise ValueError("field must not be empty")
    if not 0 <= schema_version <= _MAX_SCHEMA_VERSION:
        raise ValueError(f"schema_version must be between 0 and {_MAX_SCHEMA_VERSION}")
    return encode_parts(
        _FIELD_LABEL,
        subject_id.encode("utf-8"),
        field.encode("utf-8"),
        schema_version.to_bytes(4, "big"),
    )


def seal(cipher: AESGCM, plaintext: bytes, aad: bytes) -> bytes:
    """Encrypt ``plaintext`` under ``cipher`` with a fresh random nonce, bound to ``aad``."""
    nonce = os.urandom(NONCE_BYTES)
    return _HEADER + nonce + cipher.encrypt(nonce, plaintext, _HEADER + aad)


def open_(cipher: AESGCM, ciphertext: bytes, aad: bytes) -> bytes:
    """Decrypt the output of :func:`seal`; any defect raises :class:`DecryptionFailed`."""
    if len(ciphertext) < _MIN_LENGTH:
        raise DecryptionFailed("ciphertext is truncated")
    if ciphertext[0] != FORMAT_V1:
        raise DecryptionFailed(f"unsupported ciphertext format {ciphertext[0]}")
    nonce = ciphertext[1 : 1 + NONCE_BYTES]
    try:
        return cipher.decrypt(nonce, ciphertext[1 + NONCE_BYTES :], _HEADER + aad)
    except InvalidTag:
        raise DecryptionFailed(
            "ciphertext does not authenticate (tampered, moved from another subject, field or schema "
            "version, or under another data key)"
        ) from None
