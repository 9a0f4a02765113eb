"""Envelope encryption of one field: per-subject data keys, field associated data, and the ciphertext format.

Ciphertext format 1: one format byte, a 12-byte random nonce, then AES-256-GCM ciphertext and its 16-byte
tag. The format byte is authenticated too (it is prepended to the associated data), so a future format
cannot be downgraded to this one by editing a byte. The format is written and read in one place,
:meth:`SubjectCipher.seal` and :meth:`SubjectCipher.open`, which every field read and write goes through.
"""

from __future__ import annotations

import functools
from os import urandom

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


# Built for every subject cipher that meets a field; field names come from a small schema-defined set.
@functools.lru_cache(maxsize=1024)
def _field_part(field: str, schema_version: int) -> bytes:
    if not field:
        raise ValueError("field must not be empty")
    if not 0 <= schema_version <= _MAX_SCHEMA_VERSION:
        raise ValueError(f"schema_version must be between 0 and {_MAX_SCHEMA_VERSION}")
    return encode_parts(field.encode("utf-8"), schema_version.to_bytes(4, "big"))


class SubjectCipher:
    """One subject's data key, ready to seal and open that subject's fields in ciphertext format 1.

    Holds the AESGCM object's ``encrypt`` and ``decrypt`` (its key schedule already expanded) and the
    subject's part of the associated data, both computed once per unwrap instead of on every field: this is
    what the data-key cache keeps. The complete associated data of each field is built on first use and kept
    too, since a subject's fields are few and every read and write needs it.

    :meth:`seal` and :meth:`open` run on every field read and write, so they do the format's work inline
    rather than through helpers: a Python call costs about as much here as the bookkeeping around AES-GCM.
    """

    __slots__ = ("_aads", "_decrypt", "_encrypt", "_subject_id", "_subject_part")

    def __init__(self, subject_id: str, data_key: bytes) -> None:
        if len(data_key) != DATA_KEY_BYTES:
            raise ValueError(f"a data key has {DATA_KEY_BYTES} bytes")
        self._subject_part = _subject_part(subject_id)
        self._subject_id = subject_id
        aead = AESGCM(data_key)
        self._encrypt = aead.encrypt
        self._decrypt = aead.decrypt
        # Schema version -> field -> the format header followed by the field's associated data. Nested and
        # read by subscript, not keyed by a (field, version) tuple: no tuple to build and hash on every call.
        self._aads: dict[int, dict[str, bytes]] = {}

    def __repr__(self) -> str:
        return f"SubjectCipher(subject_id={self._subject_id!r})"

    def seal(self, field: str, value: bytes, schema_version: int) -> bytes:
        """Encrypt ``value`` with a fresh random nonce, bound to this subject, ``field`` and the version."""
        try:
            bound = self._aads[schema_version][field]
        except KeyError:
            bound = self._bind(field, schema_version)
        nonce = urandom(NONCE_BYTES)
        return _HEADER + nonce + self._encrypt(nonce, value, bound)

    def open(self, field: str, ciphertext: bytes, schema_version: int) -> bytes:
        """Decrypt the output of :meth:`seal`; any defect raises :class:`DecryptionFailed` naming subject
        and field (never a value)."""
        try:
            bound = self._aads[schema_version][field]
        except KeyError:
            bound = self._bind(field, schema_version)
        if len(ciphertext) < _MIN_LENGTH:
            raise self._failure("ciphertext is truncated", field)
        if ciphertext[0] != FORMAT_V1:
            raise self._failure(f"unsupported ciphertext format {ciphertext[0]}", field)
        try:
            return self._decrypt(ciphertext[1:_BODY], ciphertext[_BODY:], bound)
        except InvalidTag:
            raise self._failure(
                "ciphertext does not authenticate (tampered, moved from another subject, field or schema "
                "version, or under another data key)",
                field,
            ) from None

    def _failure(self, reason: str, field: str) -> DecryptionFailed:
        return DecryptionFailed(reason, subject_id=self._subject_id, field=field)

    def _bind(self, field: str, schema_version: int) -> bytes:
        bound = _HEADER + self._subject_part + _field_part(field, schema_version)
        # Bounded by the schema's fields; setdefault and item assignment are atomic: threads race harmlessly.
        self._aads.setdefault(schema_version, {})[field] = bound
        return bound
