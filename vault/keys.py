"""The key-provider interface: versioned key-encryption keys that wrap and unwrap data keys.

A provider keeps its key-encryption keys outside the database (a local key file by default, an external KMS
later). Callers only ever see wrapped data keys, which they store next to the data they protect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from vault.errors import DecryptionFailed

# Layout of WrappedKey.to_bytes(), format 1: format byte, key version (unsigned 32-bit big-endian), then the
# provider's opaque ciphertext. The format byte leaves room for other layouts without guessing.
_WRAPPED_FORMAT_V1 = 0x01
_VERSION_BYTES = 4
_HEADER_LEN = 1 + _VERSION_BYTES
MAX_KEY_VERSION = 2 ** (8 * _VERSION_BYTES) - 1


@dataclass(frozen=True, slots=True)
class KeyVersionInfo:
    """Public facts about one key-encryption key version; never the key itself."""

    version: int
    created_at: datetime
    retired: bool


@dataclass(frozen=True, slots=True)
class WrappedKey:
    """A data key encrypted under key-encryption key ``kek_version``; safe to store in the database."""

    kek_version: int
    ciphertext: bytes

    def __post_init__(self) -> None:
        if not 1 <= self.kek_version <= MAX_KEY_VERSION:
            raise ValueError(f"key version must be between 1 and {MAX_KEY_VERSION}")
        if not self.ciphertext:
            raise ValueError("wrapped key ciphertext is empty")

    def to_bytes(self) -> bytes:
        """Serialise to one self-describing value, so the application can keep it in a single column."""
        return (
            bytes((_WRAPPED_FORMAT_V1,)) + self.kek_version.to_bytes(_VERSION_BYTES, "big") + self.ciphertext
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> WrappedKey:
        """Parse the output of :meth:`to_bytes`; malformed input raises :class:`DecryptionFailed`."""
        if len(data) <= _HEADER_LEN:
            raise DecryptionFailed("wrapped key is truncated")
        if data[0] != _WRAPPED_FORMAT_V1:
            raise DecryptionFailed(f"wrapped key has unsupported format {data[0]}")
        version = int.from_bytes(data[1:_HEADER_LEN], "big")
        if version == 0:
            raise DecryptionFailed("wrapped key names key version 0")
        return cls(kek_version=version, ciphertext=bytes(data[_HEADER_LEN:]))


@runtime_checkable
class KeyProvider(Protocol):
    """Versioned key-encryption keys. Implementations must be safe to call from several threads."""

    def current_version(self) -> int:
        """The version that :meth:`wrap` uses now."""
        ...

    def versions(self) -> list[KeyVersionInfo]:
        """Every known version, oldest first."""
        ...

    def wrap(self, key: bytes, aad: bytes) -> WrappedKey:
        """Encrypt ``key`` under the current version, bound to ``aad``."""
        ...

    def unwrap(self, wrapped: WrappedKey, aad: bytes) -> bytes:
        """Decrypt ``wrapped`` with the version it names.

        Raises :class:`UnknownKeyVersion`, :class:`KeyVersionRetired`, or :class:`DecryptionFailed` when the
        ciphertext or ``aad`` does not authenticate.
        """
        ...

    def rotate(self) -> int:
        """Add a new key version, make it current, and return it."""
        ...

    def retire(self, version: int) -> None:
        """Forbid ``version`` from unwrapping; raises :class:`RetirementRefused` for the current version."""
        ...
