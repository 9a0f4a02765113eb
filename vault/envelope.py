"""Envelope encryption of one field: per-subject data keys, field associated data, and the ciphertext format.

Ciphertext format 1: one format byte, a 12-byte random nonce, then AES-256-GCM ciphertext and its 16-byte
tag. The format byte is authenticated too (it is prepended to the associated data), so a future format
cannot be downgraded to this one by editing a byte.
"""

from __future__ import annotations

import functools
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
_BODY = len(_HEADER) + NONCE_BYTES
_FIELD_PREFIX = encode_parts(b"infomediary.vault.field.v1")
_MAX_SCHEMA_VERSION = 2**32 - 1


def generate_data_key() -> bytes:
    """A fresh random AES-256 data key, for one subject."""
    return AESGCM.generate_key(bit_length=256)


def field_aad(subject_id: str, field: str, schema_version: int) -> bytes:
    """Associated data binding a ciphertext to its subject, field and schema version.

    Equal to ``encode_parts(label, subject, field, schema_version as 4 bytes)``: length-prefixed, so no two
    different triples share associated data, and a ciphertext moved to another subject, another field or
    another schema version fails to authenticate.
    """
    return _subject_part(subject_id) + _field_part(field, schema_version)


def _subject_part(subject_id: str) -> bytes:
    if not subject_id:
        raise ValueError("subject_id must not be empty")
    return _FIELD_PREFIX + encode_parts(subject_id.encode("utf-8"))


# Built on every field read and write; field names come from a small schema-defined set, so memoise.
@functools.lru_cache(maxsize=1024)
def _field_part(field: str, schema_version: int) -> bytes:
    if not field:
        raise ValueError("field must not be empty")
    if not 0 <= schema_version <= _MAX_SCHEMA_VERSION:
        raise ValueError(f"schema_version must be between 0 and {_MAX_SCHEMA_VERSION}")
    return encode_parts(field.encode("utf-8"), schema_version.to_bytes(4, "big"))


def seal(cipher: AESGCM, plaintext: bytes, aad: bytes) -> bytes:
    """Encrypt ``plaintext`` under ``cipher`` with a fresh random nonce, bound to ``aad``."""
    return _seal_bound(cipher, plaintext, _HEADER + aad)


def open_(cipher: AESGCM, ciphertext: bytes, aad: bytes) -> bytes:
    """Decrypt the output of :func:`seal`; any defect raises :class:`DecryptionFailed`."""
    return _open_bound(cipher, ciphertext, _HEADER + aad)


# The format itself, in one place. ``bound_aad`` is the header followed by the caller's associated data, so
# that a caller sealing the same field many times can build it once.
def _seal_bound(cipher: AESGCM, plaintext: bytes, bound_aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return _HEADER + nonce + cipher.encrypt(nonce, plaintext, bound_aad)


def _open_bound(cipher: AESGCM, ciphertext: bytes, bound_aad: bytes) -> bytes:
    if len(ciphertext) < _MIN_LENGTH:
        raise DecryptionFailed("ciphertext is truncated")
    if ciphertext[0] != FORMAT_V1:
        raise DecryptionFailed(f"unsupported ciphertext format {ciphertext[0]}")
    try:
        return cipher.decrypt(ciphertext[1:_BODY], ciphertext[_BODY:], bound_aad)
    except InvalidTag:
        raise DecryptionFailed(
            "ciphertext does not authenticate (tampered, moved from another subject, field or schema "
            "version, or under another data key)"
        ) from None


class SubjectCipher:
    """One subject's data key, ready to seal and open that subject's fields.

    Holds the AESGCM object (its key schedule already expanded) and the subject's part of the associated
    data, both computed once per unwrap instead of on every field: this is what the data-key cache keeps.
    The complete associated data of each (field, schema version) is built on first use and kept too, since
    a subject's fields are few and every read and write needs it.
    """

    __slots__ = ("_aads", "_aead", "_subject_id", "_subject_part")

    def __init__(self, subject_id: str, data_key: bytes) -> None:
        if len(data_key) != DATA_KEY_BYTES:
            raise ValueError(f"a data key has {DATA_KEY_BYTES} bytes")
        self._subject_part = _subject_part(subject_id)
        self._subject_id = subject_id
        self._aead = AESGCM(data_key)
        self._aads: dict[tuple[str, int], bytes] = {}

    def __repr__(self) -> str:
        return f"SubjectCipher(subject_id={self._subject_id!r})"

    def seal(self, field: str, value: bytes, schema_version: int) -> bytes:
        bound = self._aads.get((field, schema_version)) or self._bind(field, schema_version)
        return _seal_bound(self._aead, value, bound)

    def open(self, field: str, ciphertext: bytes, schema_version: int) -> bytes:
        bound = self._aads.get((field, schema_version)) or self._bind(field, schema_version)
        try:
            return _open_bound(self._aead, ciphertext, bound)
        except DecryptionFailed as exc:
            raise exc.with_context(subject_id=self._subject_id, field=field) from None

    def _bind(self, field: str, schema_version: int) -> bytes:
        bound = _HEADER + self._subject_part + _field_part(field, schema_version)
        # Bounded by the schema's fields; a plain dict assignment is atomic, so threads may race harmlessly.
        self._aads[(field, schema_version)] = bound
        return bound
