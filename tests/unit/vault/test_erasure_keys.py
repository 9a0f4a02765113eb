"""Erasure keys: the key-side half of every field key, whose destruction crypto-shreds a subject."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from vault import (
    DataKeyCache,
    DataKeyDestroyed,
    DecryptionFailed,
    KeyFileError,
    LocalErasureKeyStore,
    LocalKeyring,
    Vault,
)
from vault.aad import encode_parts


@pytest.fixture
def store(tmp_path: Path) -> LocalErasureKeyStore:
    return LocalErasureKeyStore(tmp_path / "keys" / "erasure_keys.sqlite3")


def test_store_file_is_private_and_keys_are_random_per_subject(store: LocalErasureKeyStore) -> None:
    assert store.path.stat().st_mode & 0o777 == 0o600
    store.create(["alice", "bob"])
    assert store.get("alice") != store.get("bob") and len(store.get("alice")) == 32
    with pytest.raises(ValueError, match="already has"):
        store.create(["alice"])
    assert len(store) == 2


def test_destroyed_key_is_gone_and_not_left_in_the_file(store: LocalErasureKeyStore) -> None:
    store.create(["alice"])
    secret = store.get("alice")
    assert store.destroy("alice") is True
    assert store.destroy("alice") is False
    with pytest.raises(DataKeyDestroyed, match="crypto-shredded"):
        store.get("alice")
    on_disk = b"".join(
        Path(str(store.path) + suffix).read_bytes()
        for suffix in ("", "-wal")
        if Path(str(store.path) + suffix).exists()
    )
    assert secret not in on_disk


def test_store_refuses_a_file_others_can_read(tmp_path: Path) -> None:
    path = tmp_path / "erasure.sqlite3"
    LocalErasureKeyStore(path)
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        LocalErasureKeyStore(path)


def test_shredding_makes_the_wrapped_key_useless_even_with_the_kek(
    tmp_path: Path, store: LocalErasureKeyStore
) -> None:
    keyring = LocalKeyring(tmp_path / "keyring.json")
    vault = Vault(keyring, DataKeyCache(), erasure_keys=store)
    wrapped = vault.create_data_key("alice")
    sealed = vault.seal_field("alice", wrapped, "email", b"alice@example.org")
    # A fresh process (empty cache) reads it back through the store.
    assert (
        Vault(keyring, erasure_keys=store).open_field("alice", wrapped, "email", sealed)
        == b"alice@example.org"
    )
    # The data key alone (what a backup plus the KEK yields) is not the field key.
    data_key = keyring.unwrap(wrapped, encode_parts(b"infomediary.vault.data-key.v1", b"alice"))
    with pytest.raises(InvalidTag):
        AESGCM(data_key).decrypt(sealed[1:13], sealed[13:], None)

    assert vault.shred("alice") is True
    with pytest.raises(DataKeyDestroyed):
        vault.open_field("alice", wrapped, "email", sealed)
    with pytest.raises(DecryptionFailed):
        Vault(keyring, erasure_keys=store).open_field("alice", wrapped, "email", sealed)


def test_rewrap_needs_no_erasure_key_and_keeps_fields_readable(
    tmp_path: Path, store: LocalErasureKeyStore
) -> None:
    keyring = LocalKeyring(tmp_path / "keyring.json")
    vault = Vault(keyring, erasure_keys=store)
    wrapped = vault.create_data_key("alice")
    sealed = vault.seal_field("alice", wrapped, "email", b"a@example.org")
    keyring.rotate()
    rewrapped = Vault(keyring).rewrap("alice", wrapped)
    assert rewrapped.kek_version == 2
    assert (
        Vault(keyring, erasure_keys=store).open_field("alice", rewrapped, "email", sealed) == b"a@example.org"
    )


def test_destroying_a_key_leaves_a_tombstone_and_presence_is_answered_in_one_query(
    store: LocalErasureKeyStore,
) -> None:
    store.create(["alice", "bob", "carol"])
    assert store.destroy("bob") and not store.destroy("bob")
    assert store.present(["alice", "bob", "carol", "nobody"]) == {"alice", "carol"}
    # The tombstone stays for good (a restore may bring bob's rows back at any time), and names no secret.
    assert store.tombstones() == {"bob"}
    assert store.present([f"s{i}" for i in range(5000)]) == set()  # any number of ids, bound as one value
