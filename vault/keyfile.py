"""The local key file: its JSON format, safe reading, atomic writing, and a cross-process lock.

The file holds every key-encryption key version, base64-encoded, with its creation time (RFC 3339 UTC) and
retired flag. It is the root of trust for every customer's data, so it is created private (0600 in a 0700
directory), replaced atomically so a crash never leaves half a key file, and refused when other users can read
or change it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import json
import os
import secrets
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vault.errors import KeyFileError
from vault.keys import MAX_KEY_VERSION

FILE_FORMAT = 1
KEY_BYTES = 32
FILE_MODE = 0o600
DIR_MODE = 0o700


@dataclass(frozen=True, slots=True)
class KeyEntry:
    """One key-encryption key version as stored in the file."""

    version: int
    # repr=False keeps key bytes out of reprs, tracebacks and debugger dumps.
    key: bytes = field(repr=False)
    created_at: datetime
    retired: bool


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """Cheap identity of one state of the file, to notice a rewrite by another process without reading it."""

    inode: int
    mtime_ns: int
    size: int

    @classmethod
    def of(cls, st: os.stat_result) -> Fingerprint:
        return cls(inode=st.st_ino, mtime_ns=st.st_mtime_ns, size=st.st_size)


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with a ``Z`` suffix, to the second."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def serialise(entries: tuple[KeyEntry, ...]) -> bytes:
    document = {
        "format": FILE_FORMAT,
        "keys": [
            {
                "version": entry.version,
                "created_at": format_time(entry.created_at),
                "retired": entry.retired,
                "key": base64.b64encode(entry.key).decode("ascii"),
            }
            for entry in sorted(entries, key=lambda e: e.version)
        ],
    }
    return (json.dumps(document, indent=2) + "\n").encode("utf-8")


def parse(path: Path, raw: bytes) -> tuple[KeyEntry, ...]:
    """Validate and decode the file's content; every defect raises :class:`KeyFileError`.

    Exceptions from the JSON and base64 decoders are not chained (``from None``): ``JSONDecodeError`` keeps
    the whole document, key material included, in its ``doc`` attribute, which error reporters may capture.
    """
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise KeyFileError(path, "is not valid JSON") from None
    if not isinstance(document, dict):
        raise KeyFileError(path, "top level must be a JSON object")
    if document.get("format") != FILE_FORMAT:
        raise KeyFileError(path, f"unsupported format {document.get('format')!r}; expected {FILE_FORMAT}")
    items = document.get("keys")
    if not isinstance(items, list) or not items:
        raise KeyFileError(path, "'keys' must be a non-empty list")
    entries = tuple(_parse_entry(path, index, item) for index, item in enumerate(items))
    versions = [entry.version for entry in entries]
    if len(set(versions)) != len(versions):
        raise KeyFileError(path, "a key version appears more than once")
    newest = max(entries, key=lambda e: e.version)
    if newest.retired:
        raise KeyFileError(path, f"the newest key version {newest.version} is marked retired")
    return tuple(sorted(entries, key=lambda e: e.version))


def _parse_entry(path: Path, index: int, item: Any) -> KeyEntry:
    where = f"keys[{index}]"
    if not isinstance(item, dict):
        raise KeyFileError(path, f"{where} must be a JSON object")
    version = item.get("version")
    # bool is a subclass of int; "version": true must not pass as version 1.
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= MAX_KEY_VERSION:
        raise KeyFileError(path, f"{where}.version must be an integer between 1 and {MAX_KEY_VERSION}")
    retired = item.get("retired")
    if not isinstance(retired, bool):
        raise KeyFileError(path, f"{where}.retired must be true or false")
    created_text = item.get("created_at")
    if not isinstance(created_text, str):
        raise KeyFileError(path, f"{where}.created_at must be an RFC 3339 string")
    try:
        created_at = datetime.fromisoformat(created_text)
    except ValueError:
        raise KeyFileError(path, f"{where}.created_at is not an RFC 3339 time") from None
    if created_at.tzinfo is None:
        raise KeyFileError(path, f"{where}.created_at must carry a UTC offset")
    encoded = item.get("key")
    if not isinstance(encoded, str):
        raise KeyFileError(path, f"{where}.key must be a base64 string")
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise KeyFileError(path, f"{where}.key is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise KeyFileError(path, f"{where}.key must decode to {KEY_BYTES} bytes, not {len(key)}")
    return KeyEntry(version=version, key=key, created_at=created_at.astimezone(UTC), retired=retired)


def read(path: Path) -> tuple[bytes, Fingerprint]:
    """Read the file and the fingerprint of exactly the state that was read.

    The fingerprint comes from ``fstat`` on the open descriptor, so a concurrent replace cannot pair new
    content with an old fingerprint (or the reverse).
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        # Missing is not an error here: the keyring creates the file on first start.
        raise
    except OSError as exc:
        raise KeyFileError(path, f"cannot be opened: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        st = os.fstat(handle.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise KeyFileError(path, "is not a regular file")
        if st.st_mode & 0o077:
            raise KeyFileError(
                path,
                f"is accessible by group or others (mode {stat.S_IMODE(st.st_mode):04o}); "
                f"restrict it with chmod {FILE_MODE:o}",
            )
        return handle.read(), Fingerprint.of(st)


def fingerprint(path: Path) -> Fingerprint | None:
    """The file's current fingerprint, or None if it does not exist."""
    try:
        return Fingerprint.of(os.stat(path))
    except FileNotFoundError:
        return None


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that readers see either the old or the new file, never a mix.

    The temporary file is created with O_EXCL and mode 0600 so that no other user can open it between
    creation and rename, and it is fsynced before the rename, and the directory after, so that the new
    keys survive a crash once this returns.
    """
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as handle:
            # The umask can only remove permission bits; fchmod makes the mode exact regardless.
            os.fchmod(handle.fileno(), FILE_MODE)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_directory(directory: Path) -> None:
    """Create the key file's directory as 0700 if missing; an existing directory is left as it is."""
    if directory.exists():
        return
    directory.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    # mkdir's mode is filtered through the umask; make the directory exactly 0700.
    os.chmod(directory, DIR_MODE)


@contextlib.contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock that serialises every writer of ``path`` across processes.

    Without it, two processes rotating at once would each write back their own new version and one of the
    two keys (and every data key wrapped under it) would be lost. The lock lives in a sibling file because
    the key file itself is replaced, not modified, on every write.
    """
    lock_path = path.with_name(f"{path.name}.lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        # Closing the descriptor releases the lock.
        os.close(fd)
