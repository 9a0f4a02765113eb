"""Names (how a subject is found from outside) and values bound to the erasure key: both die with the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from vault import DataKeyDestroyed, DecryptionFailed, LocalErasureKeyStore, LocalKeyring, Vault


@pytest.fixture
def store(tmp_path: Path) -> LocalErasureKeyStore:
    return LocalErasureKeyStore(tmp_path / "keys" / "erasure_keys.sqlite3")


@pytest.fixture
def vault(tmp_path: Path, store: LocalErasureKeyStore) -> Vault:
    return Vault(LocalKeyring(tmp_path / "keyring.json"), erasure_keys=store)


def test_a_name_has_one_holder_and_a_stale_holder_is_replaced_only_when_named(
    store: LocalErasureKeyStore,
) -> None:
    assert store.bind("email", "ab12", "alice") is None
    assert store.bind("email", "ab12", "alice") is None  # the same binding again is no change
    assert store.bind("email", "ab12", "bob") == "alice"
    assert store.subject_of("email", "ab12") == "alice"
    # Taking over needs the holder the caller found stale: a holder that changed meanwhile is kept.
    assert store.bind("email", "ab12", "bob", replacing="carol") == "alice"
    assert store.bind("email", "ab12", "bob", replacing="alice") is None
    assert store.subject_of("email", "ab12") == "bob"
    # Kinds are separate namespaces.
    assert store.bind("customer-id", "ab12", "alice") is None
    assert store.names_of("customer-id", ["alice", "bob"]) == {"alice": "ab12"}
    assert store.subjects_named("email", ["ab12", "zz"]) == {"ab12": "bob"}


def test_destroying_the_key_destroys_every_name_and_leaves_nothing_in_the_file(
    store: LocalErasureKeyStore,
) -> None:
    store.create(["alice", "bob"])
    store.bind_many("email", {"alice": "a1a1a1a1a1a1a1a1", "bob": "b2b2b2b2b2b2b2b2"})
    store.bind("customer-id", "cus_00112233aabbccdd", "alice")
    assert store.destroy("alice")
    assert store.subject_of("email", "a1a1a1a1a1a1a1a1") is None
    assert store.names_of("customer-id", ["alice"]) == {}
    assert store.subject_of("email", "b2b2b2b2b2b2b2b2") == "bob"
    raw = store.path.read_bytes()
    for wal in store.path.parent.glob(store.path.name + "-*"):
        raw += wal.read_bytes()
    assert b"a1a1a1a1a1a1a1a1" not in raw and b"cus_00112233aabbccdd" not in raw
    assert store.tombstones() == {"alice"}


def test_unbind_removes_only_the_subjects_names_of_that_kind(store: LocalErasureKeyStore) -> None:
    store.bind("email", "old", "alice")
    store.bind("customer-id", "cus_1", "alice")
    store.unbind("email", "alice")
    assert store.subject_of("email", "old") is None and store.subject_of("customer-id", "cus_1") == "alice"


def test_bound_values_open_only_for_their_subject_and_label_and_die_with_the_key(vault: Vault) -> None:
    vault.create_data_keys(["alice", "bob"])
    sealed = vault.seal_bound("alice", "request.pseudonym", b"p-1")
    assert vault.open_bound("alice", "request.pseudonym", sealed) == b"p-1"
    assert sealed != vault.seal_bound("alice", "request.pseudonym", b"p-1")  # a fresh nonce each time
    for subject, label in (("bob", "request.pseudonym"), ("alice", "other")):
        with pytest.raises(DecryptionFailed):
            vault.open_bound(subject, label, sealed)
    with pytest.raises(DecryptionFailed):
        vault.open_bound("alice", "request.pseudonym", sealed[:-1] + bytes([sealed[-1] ^ 1]))
    # Tags: equal for equal values of one subject, unrelated across subjects.
    tag = vault.tag_bound("alice", "request.pseudonym", b"p-1")
    assert tag == vault.tag_bound("alice", "request.pseudonym", b"p-1")
    assert tag != vault.tag_bound("bob", "request.pseudonym", b"p-1")
    assert tag != vault.tag_bound("alice", "request.pseudonym", b"p-2")
    vault.shred("alice")
    with pytest.raises(DataKeyDestroyed):
        vault.open_bound("alice", "request.pseudonym", sealed)
    with pytest.raises(DataKeyDestroyed):
        vault.tag_bound("alice", "request.pseudonym", b"p-1")
