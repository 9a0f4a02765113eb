"""LocalKeyring: the default key provider, with versioned key-encryption keys kept in a local key file.

The server and the command line may share one key file: the command line rotates or retires keys while the
server runs. Every operation therefore first checks, with one ``stat``, whether the file changed since it was
read, and writers serialise through a lock file so that concurrent rotations cannot lose a key.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from vault import keyfile
from vault.aad import encode_parts
from vault.errors import (
    DecryptionFailed,
    KeyFileError,
    KeyVersionRetired,
    RetirementRefused,
    UnknownKeyVersion,
)
from vault.keyfile import Fingerprint, KeyEntry
from vault.keys import KeyVersionInfo, WrappedKey

NONCE_BYTES = 12
TAG_BYTES = 16
# Domain separation: a key-encryption key only ever encrypts data keys under this label, and the version is
# bound too, so a wrapped key relabelled with another version cannot authenticate.
_WRAP_LABEL = b"infomediary.vault.wrap.v1"


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """One consistent reading of the key file; replaced whole, never mutated, so readers need no lock."""

    entries: dict[int, KeyEntry]
    # Built once per reading: constructing AESGCM expands the key schedule, too costly for every call.
    ciphers: dict[int, AESGCM]
    current: int
    fingerprint: Fingerprint

    @classmethod
    def build(cls, entries: tuple[KeyEntry, ...], fingerprint: Fingerprint) -> _Snapshot:
        return cls(
            entries={entry.version: entry for entry in entries},
            ciphers={entry.version: AESGCM(entry.key) for entry in entries if not entry.retired},
            current=max(entry.version for entry in entries),
            fingerprint=fingerprint,
        )


class LocalKeyring:
    """Versioned 256-bit key-encryption keys in a JSON key file, created (0600, directory 0700) if missing.

    The newest version is current. Wrapping uses AES-256-GCM with a random 96-bit nonce; a key-encryption
    key must therefore wrap fewer than 2**32 data keys before rotation, far beyond one key per customer
    plus periodic rewraps.
    """

    def __init__(self, path: Path, *, clock: Callable[[], datetime] = _utc_now) -> None:
        self._path = path
        self._clock = clock
        # Serialises reloads and writes in this process; the lock file serialises writers across processes.
        self._lock = threading.Lock()
        self._snapshot = self._load_or_create()

    @property
    def path(self) -> Path:
        return self._path

    def current_version(self) -> int:
        return self._fresh().current

    def versions(self) -> list[KeyVersionInfo]:
        snapshot = self._fresh()
        return [
            KeyVersionInfo(version=entry.version, created_at=entry.created_at, retired=entry.retired)
            for entry in sorted(snapshot.entries.values(), key=lambda e: e.version)
        ]

    def wrap(self, key: bytes, aad: bytes) -> WrappedKey:
        if not key:
            raise ValueError("cannot wrap an empty key")
        snapshot = self._fresh()
        version = snapshot.current
        nonce = os.urandom(NONCE_BYTES)
        sealed = snapshot.ciphers[version].encrypt(nonce, key, _wrap_aad(version, aad))
        return WrappedKey(kek_version=version, ciphertext=nonce + sealed)

    def unwrap(self, wrapped: WrappedKey, aad: bytes) -> bytes:
        snapshot = self._fresh()
        version = wrapped.kek_version
        if version not in snapshot.entries:
            # Another process may have rotated since the last reading, in a way the fingerprint missed (an
            # inode reused within the file system's timestamp granularity); read once more before giving up.
            snapshot = self._reload()
            if version not in snapshot.entries:
                raise UnknownKeyVersion(version)
        cipher = snapshot.ciphers.get(version)
        if cipher is None:
            raise KeyVersionRetired(version)
        if len(wrapped.ciphertext) < NONCE_BYTES + TAG_BYTES:
            raise DecryptionFailed("wrapped key is truncated")
        nonce, sealed = wrapped.ciphertext[:NONCE_BYTES], wrapped.ciphertext[NONCE_BYTES:]
        try:
            return cipher.decrypt(nonce, sealed, _wrap_aad(version, aad))
        except InvalidTag:
            raise DecryptionFailed(
                f"wrapped data key does not authenticate under key version {version} "
                "(bound to another subject, tampered with, or corrupted)"
            ) from None

    def rotate(self) -> int:
        with self._lock, keyfile.exclusive_lock(self._path):
            # Re-read under the lock: the file on disk, not this process's snapshot, is the truth to extend.
            entries, _ = self._read()
            version = max(entry.version for entry in entries) + 1
            keyfile.write_atomic(self._path, keyfile.serialise((*entries, self._new_entry(version))))
            self._snapshot = _Snapshot.build(*self._read())
            return version

    def retire(self, version: int) -> None:
        with self._lock, keyfile.exclusive_lock(self._path):
            entries, _ = self._read()
            by_version = {entry.version: entry for entry in entries}
            entry = by_version.get(version)
            if entry is None:
                raise UnknownKeyVersion(version)
            if version == max(by_version):
                raise RetirementRefused(version)
            if not entry.retired:
                by_version[version] = replace(entry, retired=True)
                keyfile.write_atomic(self._path, keyfile.serialise(tuple(by_version.values())))
            self._snapshot = _Snapshot.build(*self._read())

    def _fresh(self) -> _Snapshot:
        """The current snapshot, reloaded first if the file changed on disk (one ``stat``)."""
        snapshot = self._snapshot
        on_disk = keyfile.fingerprint(self._path)
        if on_disk == snapshot.fingerprint:
            return snapshot
        if on_disk is None:
            # Carrying on with keys held only in memory would wrap new data keys that no restart could unwrap.
            raise KeyFileError(self._path, "has been removed while in use")
        return self._reload()

    def _reload(self) -> _Snapshot:
        with self._lock:
            self._snapshot = _Snapshot.build(*self._read())
            return self._snapshot

    def _read(self) -> tuple[tuple[KeyEntry, ...], Fingerprint]:
        try:
            raw, fingerprint = keyfile.read(self._path)
        except FileNotFoundError:
            raise KeyFileError(self._path, "does not exist") from None
        return keyfile.parse(self._path, raw), fingerprint

    def _new_entry(self, version: int) -> KeyEntry:
        return KeyEntry(
            version=version, key=AESGCM.generate_key(bit_length=256), created_at=self._clock(), retired=False
        )

    def _load_or_create(self) -> _Snapshot:
        if keyfile.fingerprint(self._path) is None:
            keyfile.ensure_directory(self._path.parent)
            with keyfile.exclusive_lock(self._path):
                # Another process may have created the file while this one waited for the lock.
                if keyfile.fingerprint(self._path) is None:
                    keyfile.write_atomic(self._path, keyfile.serialise((self._new_entry(1),)))
        return _Snapshot.build(*self._read())


def _wrap_aad(version: int, aad: bytes) -> bytes:
    return encode_parts(_WRAP_LABEL, version.to_bytes(4, "big"), aad)
