"""The Vault facade: field round trips, binding to context, rotation, crypto-shredding, and the cache."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.vault.conftest import FakeTimer
from vault import (
    DataKeyCache,
    DecryptionFailed,
    KeyVersionInfo,
    KeyVersionRetired,
    LocalKeyring,
    Vault,
    WrappedKey,
)

ids = st.text(min_size=1, max_size=40)


class CountingProvider:
    """Wraps a real keyring and counts unwraps, to see what the cache saves."""

    def __init__(self, inner: LocalKeyring) -> None:
        self.inner = inner
        self.unwraps = 0

    def current_version(self) -> int:
        return self.inner.current_version()

    def versions(self) -> list[KeyVersionInfo]:
        return self.inner.versions()

    def wrap(self, key: bytes, aad: bytes) -> WrappedKey:
        return self.inner.wrap(key, aad)

    def unwrap(self, wrapped: WrappedKey, aad: bytes) -> bytes:
        self.unwraps += 1
        return self.inner.unwrap(wrapped, aad)

    def rotate(self) -> int:
        return self.inner.rotate()

    def retire(self, version: int) -> None:
        self.inner.retire(version)


@settings(max_examples=200)
@given(ids, ids, st.binary(max_size=512), st.integers(0, 2**32 - 1))
def test_round_trip(
    shared_vault: Vault, subject_id: str, field: str, value: bytes, schema_version: int
) -> None:
    wrapped = shared_vault.create_data_key(subject_id)
    sealed = shared_vault.seal_field(subject_id, wrapped, field, value, schema_version)
    assert shared_vault.open_field(subject_id, wrapped, field, sealed, schema_version) == value


@given(ids, ids, st.binary(min_size=1, max_size=64))
def test_round_trip_survives_storage_and_a_cold_cache(
    shared_vault: Vault, subject_id: str, field: str, value: bytes
) -> None:
    stored_key = shared_vault.create_data_key(subject_id).to_bytes()
    sealed = shared_vault.seal_field(subject_id, WrappedKey.from_bytes(stored_key), field, value)
    shared_vault.forget(subject_id)
    assert shared_vault.open_field(subject_id, WrappedKey.from_bytes(stored_key), field, sealed) == value


def test_ciphertext_swapped_between_subjects_fails(vault: Vault) -> None:
    alice, bob = vault.create_data_key("alice"), vault.create_data_key("bob")
    sealed = vault.seal_field("alice", alice, "email", b"alice@example.org")
    with pytest.raises(DecryptionFailed, match="subject 'bob'"):
        vault.open_field("bob", bob, "email", sealed)


def test_ciphertext_moved_with_its_key_to_another_subject_fails(vault: Vault) -> None:
    # Even copying the wrapped key along does not help: the wrapping is bound to the subject.
    alice = vault.create_data_key("alice")
    sealed = vault.seal_field("alice", alice, "email", b"alice@example.org")
    with pytest.raises(DecryptionFailed, match="subject 'mallory'"):
        vault.open_field("mallory", alice, "email", sealed)


def test_ciphertext_swapped_between_fields_fails(vault: Vault) -> None:
    wrapped = vault.create_data_key("alice")
    sealed = vault.seal_field("alice", wrapped, "email", b"alice@example.org")
    with pytest.raises(DecryptionFailed, match="subject 'alice', field 'phone'"):
        vault.open_field("alice", wrapped, "phone", sealed)


def test_ciphertext_under_another_schema_version_fails(vault: Vault) -> None:
    wrapped = vault.create_data_key("alice")
    sealed = vault.seal_field("alice", wrapped, "email", b"alice@example.org", schema_version=1)
    with pytest.raises(DecryptionFailed):
        vault.open_field("alice", wrapped, "email", sealed, schema_version=2)


def test_every_flipped_bit_fails(vault: Vault) -> None:
    wrapped = vault.create_data_key("alice")
    sealed = vault.seal_field("alice", wrapped, "city", b"Lyon")
    for index in range(len(sealed)):
        for bit in range(8):
            tampered = bytearray(sealed)
            tampered[index] ^= 1 << bit
            with pytest.raises(DecryptionFailed):
                vault.open_field("alice", wrapped, "city", bytes(tampered))


def test_wrapped_key_moved_to_another_subject_fails_with_a_cold_cache(keyring: LocalKeyring) -> None:
    wrapped = Vault(keyring).create_data_key("alice")
    with pytest.raises(DecryptionFailed, match="subject 'bob'"):
        Vault(keyring).seal_field("bob", wrapped, "email", b"x")


def test_failure_message_names_context_but_never_plaintext_or_keys(vault: Vault) -> None:
    wrapped = vault.create_data_key("alice")
    sealed = vault.seal_field("alice", wrapped, "email", b"alice-secret@example.org")
    with pytest.raises(DecryptionFailed) as caught:
        vault.open_field("alice", wrapped, "phone", sealed)
    message = str(caught.value)
    assert (caught.value.subject_id, caught.value.field) == ("alice", "phone")
    assert "alice-secret" not in message
    assert wrapped.ciphertext.hex() not in message
    assert caught.value.__cause__ is None


def test_cache_hit_needs_no_unwrap(keyring: LocalKeyring) -> None:
    provider = CountingProvider(keyring)
    vault = Vault(provider)
    wrapped = vault.create_data_key("alice")
    for i in range(10):
        vault.open_field("alice", wrapped, "f", vault.seal_field("alice", wrapped, "f", b"%d" % i))
    assert provider.unwraps == 0  # create_data_key primed the cache
    vault.forget("alice")
    vault.seal_field("alice", wrapped, "f", b"v")
    vault.seal_field("alice", wrapped, "f", b"v")
    assert provider.unwraps == 1


def test_expired_cache_entry_is_unwrapped_again(keyring: LocalKeyring, timer: FakeTimer) -> None:
    provider = CountingProvider(keyring)
    vault = Vault(provider, DataKeyCache(ttl=30, timer=timer))
    wrapped = vault.create_data_key("alice")
    sealed = vault.seal_field("alice", wrapped, "f", b"v")
    timer.advance(31)
    assert vault.open_field("alice", wrapped, "f", sealed) == b"v"
    assert provider.unwraps == 1


def test_the_ttl_counts_from_each_unwrap_not_from_each_use(keyring: LocalKeyring, timer: FakeTimer) -> None:
    provider = CountingProvider(keyring)
    vault = Vault(provider, DataKeyCache(ttl=30, timer=timer))
    wrapped = vault.create_data_key("alice")  # unwrapped (made) at t=0, cached until t=30
    sealed = vault.seal_field("alice", wrapped, "f", b"v")
    for _ in range(29):  # used every second: still the one key of t=0
        timer.advance(1)
        vault.open_field("alice", wrapped, "f", sealed)
    assert provider.unwraps == 0
    timer.advance(1)  # t=30
    vault.open_field("alice", wrapped, "f", sealed)
    assert provider.unwraps == 1  # unwrapped again at t=30: cached until t=60
    timer.advance(29)
    vault.open_field("alice", wrapped, "f", sealed)
    assert provider.unwraps == 1
    timer.advance(1)
    vault.open_field("alice", wrapped, "f", sealed)
    assert provider.unwraps == 2


def test_rotation_old_keys_still_open_and_rewrap_moves_them(keyring: LocalKeyring) -> None:
    vault = Vault(keyring)
    wrapped = vault.create_data_key("alice")
    sealed = vault.seal_field("alice", wrapped, "email", b"alice@example.org")
    keyring.rotate()
    assert Vault(keyring).open_field("alice", wrapped, "email", sealed) == b"alice@example.org"
    rewrapped = vault.rewrap("alice", wrapped)
    assert (wrapped.kek_version, rewrapped.kek_version) == (1, 2)
    keyring.retire(1)
    assert Vault(keyring).open_field("alice", rewrapped, "email", sealed) == b"alice@example.org"
    with pytest.raises(KeyVersionRetired):
        Vault(keyring).open_field("alice", wrapped, "email", sealed)


def test_rewrap_of_a_current_key_is_a_no_op(vault: Vault) -> None:
    wrapped = vault.create_data_key("alice")
    assert vault.rewrap("alice", wrapped) is wrapped


def test_rewrap_is_bound_to_the_subject(keyring: LocalKeyring) -> None:
    vault = Vault(keyring)
    wrapped = vault.create_data_key("alice")
    keyring.rotate()
    with pytest.raises(DecryptionFailed, match="subject 'bob'"):
        vault.rewrap("bob", wrapped)


def test_rewrap_after_rotation_by_another_process(key_path: Path) -> None:
    server = Vault(LocalKeyring(key_path))
    wrapped = server.create_data_key("alice")
    LocalKeyring(key_path).rotate()
    assert server.rewrap("alice", wrapped).kek_version == 2


def test_crypto_shredding(key_path: Path) -> None:
    vault = Vault(LocalKeyring(key_path))
    stored_key = vault.create_data_key("alice").to_bytes()
    sealed = vault.seal_field("alice", WrappedKey.from_bytes(stored_key), "email", b"alice@example.org")

    # Erasure: the application deletes the wrapped key, then tells the vault to forget the cached one.
    del stored_key
    vault.forget("alice")

    # A backup holds the ciphertext; the key file is intact. Neither this vault nor a fresh process with
    # only the key file can open it: the only data key they can get for "alice" is a new one.
    for survivor in (vault, Vault(LocalKeyring(key_path))):
        replacement = survivor.create_data_key("alice")
        with pytest.raises(DecryptionFailed):
            survivor.open_field("alice", replacement, "email", sealed)


def test_shredded_key_still_cached_elsewhere_is_unusable(keyring: LocalKeyring) -> None:
    # Another worker may still cache the key until its TTL; without the deleted wrapped key it cannot use it.
    other_worker = Vault(keyring)
    wrapped = other_worker.create_data_key("alice")
    sealed = other_worker.seal_field("alice", wrapped, "email", b"alice@example.org")
    new_wrapped = Vault(keyring).create_data_key("alice")
    with pytest.raises(DecryptionFailed):
        other_worker.open_field("alice", new_wrapped, "email", sealed)


def test_empty_subject_is_refused(vault: Vault) -> None:
    with pytest.raises(ValueError, match="subject_id must not be empty"):
        vault.create_data_key("")


def test_faulty_provider_returning_a_short_key_is_refused(keyring: LocalKeyring) -> None:
    class ShortKeys(CountingProvider):
        def unwrap(self, wrapped: WrappedKey, aad: bytes) -> bytes:
            return super().unwrap(wrapped, aad)[:16]

    wrapped = Vault(keyring).create_data_key("alice")
    with pytest.raises(DecryptionFailed, match="wrong length"):
        Vault(ShortKeys(keyring)).seal_field("alice", wrapped, "f", b"v")
