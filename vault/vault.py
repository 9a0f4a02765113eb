"""Vault: the facade the application uses to give subjects data keys and to seal and open their fields.

It joins a key provider (which wraps data keys) with a data-key cache (which keeps recently unwrapped keys
ready), so that the hot path on a cache hit is one dictionary lookup and one AES-GCM operation.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable, Mapping, Sequence

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from vault.aad import encode_parts
from vault.cache import DataKeyCache
from vault.envelope import DATA_KEY_BYTES, SubjectCipher, generate_data_key
from vault.erasure_keys import ErasureKeyStore, derive_field_key
from vault.errors import DecryptionFailed, VaultError
from vault.keys import KeyProvider, WrappedKey

_DATA_KEY_LABEL = b"infomediary.vault.data-key.v1"
_BOUND_KEY_LABEL = b"infomediary.vault.erasure-bound.v1"
_NONCE_BYTES = 12


class Vault:
    """Envelope encryption for many subjects: one data key per subject, wrapped by the provider's keys.

    The application stores each subject's wrapped data key (``WrappedKey.to_bytes()``) and passes it back
    with every call.

    With an ``erasure_keys`` store, fields are sealed under a key derived from the data key and the subject's
    erasure key (see :mod:`vault.erasure_keys`), and :meth:`shred` destroys the latter: every ciphertext of
    that subject, database backups included, is then unreadable with the current key material. Without one,
    the data key is used directly and erasure can only delete the wrapped key, which a backup still holds.
    """

    def __init__(
        self,
        provider: KeyProvider,
        cache: DataKeyCache | None = None,
        *,
        erasure_keys: ErasureKeyStore | None = None,
    ) -> None:
        self._provider = provider
        self._cache = cache if cache is not None else DataKeyCache()
        # Bound once: every field read and write starts with this lookup.
        self._cached = self._cache.get
        self._erasure_keys = erasure_keys

    @property
    def provider(self) -> KeyProvider:
        return self._provider

    def create_data_key(self, subject_id: str) -> WrappedKey:
        """Generate a data key for ``subject_id`` and return it wrapped under the current key version.

        The wrapping is bound to the subject: a wrapped key copied to another subject does not unwrap.
        """
        return self.create_data_keys([subject_id])[0]

    def create_data_keys(self, subject_ids: Sequence[str]) -> list[WrappedKey]:
        """:meth:`create_data_key` for many subjects at once (one erasure-key store transaction)."""
        # The new erasure keys come back from the store: one transaction for the batch, not a read each.
        erasure = self._erasure_keys.create(subject_ids) if self._erasure_keys is not None else None
        wrapped_keys = []
        for subject_id in subject_ids:
            data_key = generate_data_key()
            wrapped = self._provider.wrap(data_key, _data_key_aad(subject_id))
            # A new subject's fields are usually written right away; save them an unwrap.
            self._cache.put(subject_id, wrapped, self._cipher(subject_id, data_key, erasure))
            wrapped_keys.append(wrapped)
        return wrapped_keys

    def shred(self, subject_id: str) -> bool:
        """Crypto-shred ``subject_id``: destroy its erasure key and evict its cached key.

        True if an erasure key was destroyed. Without an erasure-key store this only evicts the cache; the
        application must also delete the wrapped data key.
        """
        destroyed = self._erasure_keys.destroy(subject_id) if self._erasure_keys is not None else False
        self._cache.forget(subject_id)
        return destroyed

    def shredded_among(self, subject_ids: Iterable[str]) -> set[str]:
        """Which of ``subject_ids`` have no erasure key: crypto-shredded (their rows, if any, came back from a
        backup older than the shredding). Without an erasure-key store, none."""
        if self._erasure_keys is None:
            return set()
        wanted = set(subject_ids)
        return wanted - self._erasure_keys.present(wanted)

    def tombstones(self) -> set[str]:
        """Every subject shredded with this erasure-key store."""
        return self._erasure_keys.tombstones() if self._erasure_keys is not None else set()

    # Names: how a subject is found from outside, kept with her erasure key and destroyed with it.

    def name(self, kind: str, value: str, subject_id: str, *, replacing: str | None = None) -> str | None:
        """Name the subject by (`kind`, `value`); None when done, else the subject already holding the name
        (see :meth:`ErasureKeyStore.bind`)."""
        return self._names().bind(kind, value, subject_id, replacing=replacing)

    def name_many(self, kind: str, names: Mapping[str, str]) -> None:
        self._names().bind_many(kind, names)

    def unname(self, kind: str, subject_id: str) -> None:
        self._names().unbind(kind, subject_id)

    def named(self, kind: str, value: str) -> str | None:
        return self._names().subject_of(kind, value)

    def names_of(self, kind: str, subject_ids: Iterable[str]) -> dict[str, str]:
        return self._names().names_of(kind, subject_ids)

    def subjects_named(self, kind: str, values: Iterable[str]) -> dict[str, str]:
        return self._names().subjects_named(kind, values)

    def _names(self) -> ErasureKeyStore:
        if self._erasure_keys is None:
            raise VaultError("names need an erasure-key store: they are destroyed with the subject's key")
        return self._erasure_keys

    # Values bound to the erasure key alone (no data key): small values stored beside other rows, such as
    # the pseudonym a request named her by, that must become unreadable and unmatchable when she is erased.

    def seal_bound(self, subject_id: str, label: str, plaintext: bytes) -> bytes:
        """AES-256-GCM under a key derived from the subject's erasure key; nonce || ciphertext."""
        nonce = os.urandom(_NONCE_BYTES)
        aad = encode_parts(label.encode("utf-8"), subject_id.encode("utf-8"))
        return nonce + AESGCM(self._bound_key(subject_id, b"seal")).encrypt(nonce, plaintext, aad)

    def open_bound(self, subject_id: str, label: str, sealed: bytes) -> bytes:
        aad = encode_parts(label.encode("utf-8"), subject_id.encode("utf-8"))
        cipher = AESGCM(self._bound_key(subject_id, b"seal"))  # DataKeyDestroyed once she is erased
        try:
            return cipher.decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], aad)
        except Exception as exc:  # InvalidTag, or a value too short to hold a nonce
            raise DecryptionFailed("a bound value did not open", subject_id=subject_id, field=label) from exc

    def tag_bound(self, subject_id: str, label: str, value: bytes) -> bytes:
        """HMAC-SHA256 under a key derived from the subject's erasure key: equal values give equal tags
        while she exists, and nobody can compute or match one after her key is destroyed."""
        key = self._bound_key(subject_id, b"tag")
        return hmac.new(key, encode_parts(label.encode("utf-8"), value), hashlib.sha256).digest()

    def _bound_key(self, subject_id: str, use: bytes) -> bytes:
        if self._erasure_keys is None:
            raise VaultError("bound values need an erasure-key store")
        return HKDF(
            algorithm=hashes.SHA256(),
            length=32,
            salt=None,
            info=encode_parts(_BOUND_KEY_LABEL, use, subject_id.encode("utf-8")),
        ).derive(self._erasure_keys.get(subject_id))

    def seal_field(
        self, subject_id: str, wrapped_dek: WrappedKey, field: str, value: bytes, schema_version: int = 1
    ) -> bytes:
        """Encrypt one field value of ``subject_id``, bound to the subject, field and schema version."""
        cipher = self._cached(subject_id, wrapped_dek) or self._load(subject_id, wrapped_dek)
        return cipher.seal(field, value, schema_version)

    def open_field(
        self, subject_id: str, wrapped_dek: WrappedKey, field: str, ciphertext: bytes, schema_version: int = 1
    ) -> bytes:
        """Decrypt one field value; raises :class:`DecryptionFailed` naming the subject and field."""
        cipher = self._cached(subject_id, wrapped_dek) or self._load(subject_id, wrapped_dek)
        return cipher.open(field, ciphertext, schema_version)

    def rewrap(self, subject_id: str, wrapped: WrappedKey) -> WrappedKey:
        """Return ``wrapped`` re-encrypted under the current key version, for online key rotation.

        A key already under the current version is returned unchanged, so an interrupted rotation batch can
        simply be run again. The cache is left alone: the data key itself does not change.
        """
        if wrapped.kek_version == self._provider.current_version():
            return wrapped
        aad = _data_key_aad(subject_id)
        data_key = self._unwrap(subject_id, wrapped, aad)
        return self._provider.wrap(data_key, aad)

    def forget(self, subject_id: str) -> None:
        """Evict the subject's data key from the cache (after the application deleted its wrapped key)."""
        self._cache.forget(subject_id)

    def forget_all(self) -> None:
        """Evict every cached data key, so that the next use of each unwraps it afresh."""
        self._cache.clear()

    def _load(self, subject_id: str, wrapped: WrappedKey) -> SubjectCipher:
        """Unwrap the subject's data key on a cache miss, and cache it ready for use."""
        cipher = self._cipher(subject_id, self._unwrap(subject_id, wrapped, _data_key_aad(subject_id)))
        self._cache.put(subject_id, wrapped, cipher)
        return cipher

    def _cipher(
        self, subject_id: str, data_key: bytes, erasure: Mapping[str, bytes] | None = None
    ) -> SubjectCipher:
        if self._erasure_keys is None:
            return SubjectCipher(subject_id, data_key)
        erasure_key = erasure[subject_id] if erasure is not None else self._erasure_keys.get(subject_id)
        return SubjectCipher(subject_id, derive_field_key(data_key, erasure_key, subject_id))

    def _unwrap(self, subject_id: str, wrapped: WrappedKey, aad: bytes) -> bytes:
        try:
            data_key = self._provider.unwrap(wrapped, aad)
        except DecryptionFailed as exc:
            raise exc.with_context(subject_id=subject_id) from None
        if len(data_key) != DATA_KEY_BYTES:
            # Only a faulty provider gets here; refuse rather than run AES with a key of the wrong strength.
            raise DecryptionFailed("unwrapped data key has the wrong length", subject_id=subject_id)
        return data_key


def _data_key_aad(subject_id: str) -> bytes:
    if not subject_id:
        raise ValueError("subject_id must not be empty")
    return encode_parts(_DATA_KEY_LABEL, subject_id.encode("utf-8"))
