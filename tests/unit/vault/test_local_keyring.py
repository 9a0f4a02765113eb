"""LocalKeyring: key file creation and permissions, wrapping, rotation, retirement, and sharing the file."""

from __future__ import annotations

import json
import os
import stat
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from vault import (
    DecryptionFailed,
    KeyFileError,
    KeyProvider,
    KeyVersionRetired,
    LocalKeyring,
    RetirementRefused,
    UnknownKeyVersion,
    WrappedKey,
)

KEY = bytes(range(32))


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_is_a_key_provider(keyring: LocalKeyring) -> None:
    assert isinstance(keyring, KeyProvider)


def test_creates_private_key_file_and_directory(key_path: Path) -> None:
    # A umask that strips owner bits too (directory search, file write): the modes must still come out exact.
    old_umask = os.umask(0o277)
    try:
        LocalKeyring(key_path)
    finally:
        os.umask(old_umask)
    assert mode(key_path) == 0o600
    assert mode(key_path.parent) == 0o700
    assert mode(key_path.with_name("keyring.json.lock")) & 0o077 == 0


def test_leaves_an_existing_directory_alone(tmp_path: Path) -> None:
    os.chmod(tmp_path, 0o755)  # noqa: S103 -- an operator-made directory that the keyring must not change
    LocalKeyring(tmp_path / "keyring.json")
    assert mode(tmp_path) == 0o755
    assert mode(tmp_path / "keyring.json") == 0o600


def test_new_file_has_one_current_version_with_rfc3339_utc_time(key_path: Path) -> None:
    moment = datetime(2025, 1, 2, 3, 4, 5, 678, tzinfo=UTC)
    keyring = LocalKeyring(key_path, clock=lambda: moment)
    assert keyring.current_version() == 1
    [info] = keyring.versions()
    assert (info.version, info.retired) == (1, False)
    assert info.created_at == moment.replace(microsecond=0)
    document = json.loads(key_path.read_text())
    assert document["keys"][0]["created_at"] == "2025-01-02T03:04:05Z"
    assert len(document["keys"][0]["key"]) == 44  # base64 of 32 bytes


def test_reopening_uses_the_same_keys(key_path: Path) -> None:
    wrapped = LocalKeyring(key_path).wrap(KEY, b"aad")
    assert LocalKeyring(key_path).unwrap(wrapped, b"aad") == KEY


def test_writes_leave_no_temporary_files(keyring: LocalKeyring, key_path: Path) -> None:
    keyring.rotate()
    keyring.retire(1)
    assert sorted(p.name for p in key_path.parent.iterdir()) == ["keyring.json", "keyring.json.lock"]
    assert mode(key_path) == 0o600


def test_wrap_unwrap_round_trip(keyring: LocalKeyring) -> None:
    wrapped = keyring.wrap(KEY, b"customer-1")
    assert wrapped.kek_version == 1
    assert KEY not in wrapped.to_bytes()
    assert keyring.unwrap(wrapped, b"customer-1") == KEY


def test_wrapping_twice_uses_fresh_nonces(keyring: LocalKeyring) -> None:
    assert keyring.wrap(KEY, b"a").ciphertext != keyring.wrap(KEY, b"a").ciphertext


def test_wrapped_key_moved_to_another_aad_fails(keyring: LocalKeyring) -> None:
    wrapped = keyring.wrap(KEY, b"customer-1")
    with pytest.raises(DecryptionFailed, match="key version 1"):
        keyring.unwrap(wrapped, b"customer-2")


def test_every_flipped_bit_of_a_wrapped_key_is_detected(keyring: LocalKeyring) -> None:
    stored = keyring.wrap(KEY, b"aad").to_bytes()
    for index in range(len(stored)):
        for bit in range(8):
            tampered = bytearray(stored)
            tampered[index] ^= 1 << bit
            # A flip in the version field names a version that does not exist: also a refusal.
            with pytest.raises((DecryptionFailed, UnknownKeyVersion)):
                keyring.unwrap(WrappedKey.from_bytes(bytes(tampered)), b"aad")


def test_version_relabelled_to_another_existing_version_fails(keyring: LocalKeyring) -> None:
    keyring.rotate()
    wrapped = keyring.wrap(KEY, b"aad")
    with pytest.raises(DecryptionFailed):
        keyring.unwrap(WrappedKey(kek_version=1, ciphertext=wrapped.ciphertext), b"aad")


def test_truncated_wrapped_key_fails(keyring: LocalKeyring) -> None:
    with pytest.raises(DecryptionFailed, match="truncated"):
        keyring.unwrap(WrappedKey(kek_version=1, ciphertext=b"\x00" * 27), b"aad")


def test_rotate_adds_a_current_version_and_old_keys_still_unwrap(keyring: LocalKeyring) -> None:
    old = keyring.wrap(KEY, b"aad")
    assert keyring.rotate() == 2
    assert keyring.current_version() == 2
    assert [v.version for v in keyring.versions()] == [1, 2]
    new = keyring.wrap(KEY, b"aad")
    assert new.kek_version == 2
    assert keyring.unwrap(old, b"aad") == KEY
    assert keyring.unwrap(new, b"aad") == KEY


def test_unknown_version_raises(keyring: LocalKeyring) -> None:
    with pytest.raises(UnknownKeyVersion, match="version 7 is unknown"):
        keyring.unwrap(WrappedKey(kek_version=7, ciphertext=b"\x00" * 40), b"aad")


def test_retire_refuses_the_current_version(keyring: LocalKeyring) -> None:
    with pytest.raises(RetirementRefused, match="version 1 is the current version"):
        keyring.retire(1)
    keyring.rotate()
    with pytest.raises(RetirementRefused):
        keyring.retire(2)
    assert not any(v.retired for v in keyring.versions())


def test_retire_refuses_an_unknown_version(keyring: LocalKeyring) -> None:
    with pytest.raises(UnknownKeyVersion):
        keyring.retire(5)


def test_retired_version_cannot_unwrap_but_is_kept(keyring: LocalKeyring, key_path: Path) -> None:
    old = keyring.wrap(KEY, b"aad")
    keyring.rotate()
    keyring.retire(1)
    keyring.retire(1)  # idempotent
    assert [(v.version, v.retired) for v in keyring.versions()] == [(1, True), (2, False)]
    with pytest.raises(KeyVersionRetired, match="version 1 is retired"):
        keyring.unwrap(old, b"aad")
    # Retirement is a flag, not destruction: the key material stays in the file for recovery.
    assert len(json.loads(key_path.read_text())["keys"]) == 2


def test_rotation_by_another_process_is_seen(key_path: Path) -> None:
    server = LocalKeyring(key_path)
    cli = LocalKeyring(key_path)
    assert cli.rotate() == 2
    assert server.current_version() == 2
    assert server.wrap(KEY, b"aad").kek_version == 2


def test_unwrap_of_a_version_rotated_in_elsewhere_reloads(key_path: Path) -> None:
    server = LocalKeyring(key_path)
    cli = LocalKeyring(key_path)
    cli.rotate()
    assert server.unwrap(cli.wrap(KEY, b"aad"), b"aad") == KEY


def test_unwrap_reloads_even_when_the_change_is_not_noticed(key_path: Path) -> None:
    server = LocalKeyring(key_path)
    cli = LocalKeyring(key_path)
    cli.rotate()
    # Simulate a rewrite the stat fingerprint missed (same inode, size and mtime on a coarse file system).
    server._snapshot = type(server._snapshot)(
        entries=server._snapshot.entries,
        ciphers=server._snapshot.ciphers,
        current=server._snapshot.current,
        fingerprint=cli._snapshot.fingerprint,
    )
    assert server.unwrap(cli.wrap(KEY, b"aad"), b"aad") == KEY


def test_retirement_by_another_process_is_seen(key_path: Path) -> None:
    server = LocalKeyring(key_path)
    old = server.wrap(KEY, b"aad")
    cli = LocalKeyring(key_path)
    cli.rotate()
    cli.retire(1)
    with pytest.raises(KeyVersionRetired):
        server.unwrap(old, b"aad")


def test_rotate_extends_the_file_not_a_stale_snapshot(key_path: Path) -> None:
    first = LocalKeyring(key_path)
    second = LocalKeyring(key_path)
    assert first.rotate() == 2
    assert second.rotate() == 3  # second never reloaded, yet must not overwrite version 2
    assert [v.version for v in LocalKeyring(key_path).versions()] == [1, 2, 3]


def test_concurrent_rotations_lose_no_version(key_path: Path) -> None:
    LocalKeyring(key_path)
    rotations_each = 10
    instances = [LocalKeyring(key_path) for _ in range(4)]
    barrier = threading.Barrier(len(instances))
    errors: list[BaseException] = []

    def rotate_many(instance: LocalKeyring) -> None:
        try:
            barrier.wait()
            for _ in range(rotations_each):
                instance.rotate()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=rotate_many, args=(i,)) for i in instances]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    total = 1 + rotations_each * len(instances)
    assert [v.version for v in LocalKeyring(key_path).versions()] == list(range(1, total + 1))


def test_removed_key_file_stops_wrapping(keyring: LocalKeyring, key_path: Path) -> None:
    key_path.unlink()
    with pytest.raises(KeyFileError, match="has been removed while in use"):
        keyring.wrap(KEY, b"aad")


def test_existing_file_readable_by_others_is_refused(keyring: LocalKeyring, key_path: Path) -> None:
    os.chmod(key_path, 0o644)
    with pytest.raises(KeyFileError, match=r"group or others \(mode 0644\)"):
        LocalKeyring(key_path)


def _valid_document() -> dict[str, object]:
    return {
        "format": 1,
        "keys": [
            {
                "version": 1,
                "created_at": "2025-01-01T00:00:00Z",
                "retired": False,
                "key": "c2VjcmV0LWtleS1tYXRlcmlhbC0zMi1ieXRlcyEhISE=",
            }
        ],
    }


def _entry(**changes: object) -> dict[str, object]:
    document = _valid_document()
    entry = document["keys"][0]  # type: ignore[index]
    entry.update(changes)
    return document


CORRUPTIONS: list[tuple[str, object, str]] = [
    ("truncated", '{"format": 1, "keys": [', "not valid JSON"),
    ("not utf-8", b"\xff\xfe", "not valid JSON"),
    ("array", [], "top level must be a JSON object"),
    ("format", {**_valid_document(), "format": 9}, "unsupported format 9"),
    ("no keys", {"format": 1, "keys": []}, "non-empty list"),
    ("entry type", {"format": 1, "keys": ["x"]}, r"keys\[0\] must be a JSON object"),
    ("version bool", _entry(version=True), r"keys\[0\].version"),
    ("version zero", _entry(version=0), r"keys\[0\].version"),
    ("retired type", _entry(retired="no"), r"keys\[0\].retired"),
    ("time text", _entry(created_at="yesterday"), "not an RFC 3339 time"),
    ("naive time", _entry(created_at="2025-01-01T00:00:00"), "UTC offset"),
    ("base64", _entry(key="not base64!"), "not valid base64"),
    ("key length", _entry(key="c2hvcnQ="), "32 bytes, not 5"),
    ("all retired", _entry(retired=True), "newest key version 1 is marked retired"),
    (
        "duplicate",
        {"format": 1, "keys": [_valid_document()["keys"][0]] * 2},  # type: ignore[index]
        "more than once",
    ),
]


@pytest.mark.parametrize(
    ("content", "message"), [(c, m) for _, c, m in CORRUPTIONS], ids=[name for name, _, _ in CORRUPTIONS]
)
def test_corrupt_key_file_gives_a_clear_error(key_path: Path, content: object, message: str) -> None:
    key_path.parent.mkdir(mode=0o700)
    if isinstance(content, bytes):
        raw = content
    elif isinstance(content, str):
        raw = content.encode()
    else:
        raw = json.dumps(content).encode()
    key_path.write_bytes(raw)
    os.chmod(key_path, 0o600)
    with pytest.raises(KeyFileError, match=message) as caught:
        LocalKeyring(key_path)
    assert str(key_path) in str(caught.value)
    # Neither the message nor a chained cause may carry the key material.
    assert "c2VjcmV0" not in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__ or caught.value.__context__ is None


def test_valid_hand_written_file_loads(key_path: Path) -> None:
    key_path.parent.mkdir(mode=0o700)
    key_path.write_text(json.dumps(_valid_document()))
    os.chmod(key_path, 0o600)
    [info] = LocalKeyring(key_path).versions()
    assert info.created_at == datetime(2025, 1, 1, tzinfo=UTC)
