"""Backups of the embedded database and, separately, of the key directory.

The database snapshot uses SQLite's online backup API (`sqlite3.Connection.backup`), copied in one step so
that it reads one consistent snapshot while the server keeps writing (WAL readers never block writers). Key
material never goes with it: the database holds only ciphertext and wrapped keys, and the keys that open
them must be kept apart so that crypto-shredding (destroying an erased customer's erasure key) keeps working
against old database backups. PostgreSQL is backed up with `pg_dump` (see the README).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from infomediary.errors import DomainError
from infomediary.keymaterial import (
    ERASURE_KEYS_FILE,
    KEYRING_FILE,
    LOG_SIGNING_FILE,
    SECRETS_FILE,
    SIGNING_FILE,
)
from infomediary.settings import Settings

KEY_FILES = (SECRETS_FILE, SIGNING_FILE, KEYRING_FILE, ERASURE_KEYS_FILE, LOG_SIGNING_FILE)
FILE_MODE = 0o600


class BackupRefused(DomainError):
    slug = "backup-refused"
    title = "Backup refused"


@dataclass(frozen=True)
class BackupResult:
    path: Path
    revision: str | None
    pages: int
    size: int


def sqlite_path(settings: Settings) -> Path:
    """The embedded database's file; a clear refusal for any other database."""
    if not settings.is_sqlite:
        raise BackupRefused(
            "`infomediary backup` snapshots the embedded SQLite database; back up PostgreSQL with "
            "`pg_dump --format=custom` and the key directory separately (see the README)"
        )
    database = make_url(settings.resolved_database_url).database
    if not database or database == ":memory:":
        raise BackupRefused("the database is in memory; there is nothing on disk to back up")
    return Path(database).resolve()


def _refuse_key_locations(settings: Settings, destination: Path, *, what: str) -> None:
    keys_dir = settings.resolved_keys_dir.resolve()
    folder = destination.parent
    if folder == keys_dir or keys_dir in folder.parents:
        raise BackupRefused(f"refusing to write {what} into the key directory {keys_dir}")
    if keys_dir.parent == folder:
        # A copy of this folder (tar, rsync) would carry the database and the keys together.
        raise BackupRefused(
            f"refusing to write {what} into {folder}, which holds the key directory {keys_dir}: "
            "keep database backups and key backups in different places"
        )
    present = [name for name in KEY_FILES if (folder / name).exists()]
    if present:
        raise BackupRefused(
            f"refusing to write {what} next to key material ({', '.join(present)} in {folder}): "
            "keep database backups and key backups in different places"
        )


def _resolve_destination(destination: Path, stem: str, suffix: str) -> Path:
    destination = destination.expanduser()
    if destination.is_dir():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        destination = destination / f"{stem}-{stamp}{suffix}"
    return destination.resolve()


def _private_tmp(path: Path) -> Path:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE))
    return tmp


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _snapshot(source: Path, target: Path) -> int:
    """Copy `source` into the new file `target` with the online backup API; returns the page count.

    One step (`pages=-1`) holds one read transaction for the whole copy: the snapshot is consistent, and
    in WAL mode the server's writers go on meanwhile. (Stepwise copying restarts whenever another process
    writes, which under steady load may never finish.)
    """
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst, pages=-1)
            # A backup is one self-contained file: no WAL beside it.
            dst.execute("PRAGMA journal_mode=DELETE")
            (check,) = dst.execute("PRAGMA integrity_check").fetchone()
            if check != "ok":
                raise BackupRefused(f"the snapshot failed SQLite's integrity check: {check}")
            (pages,) = dst.execute("PRAGMA page_count").fetchone()
        finally:
            dst.close()
    finally:
        src.close()
    return int(pages)


def _revision(path: Path) -> str | None:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        return None
    finally:
        conn.close()
    return str(row[0]) if row else None


def back_up_database(settings: Settings, destination: Path) -> BackupResult:
    """Write a consistent snapshot of the embedded database to `destination` (a file, or a directory to
    put a time-stamped file in). Never overwrites; never writes where key material lives."""
    source = sqlite_path(settings)
    if not source.exists():
        raise BackupRefused(f"no database at {source}; run `infomediary init` first")
    target = _resolve_destination(destination, "infomediary", ".db")
    if not target.parent.is_dir():
        raise BackupRefused(f"the directory {target.parent} does not exist")
    if target == source:
        raise BackupRefused("refusing to write the backup over the live database")
    if target.exists():
        raise BackupRefused(f"{target} exists; refusing to overwrite a backup")
    _refuse_key_locations(settings, target, what="a database backup")
    tmp = _private_tmp(target)
    try:
        pages = _snapshot(source, tmp)
        _fsync(tmp)
        # os.link refuses an existing target, so a concurrent backup to the same name cannot be clobbered.
        os.link(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    _fsync(target.parent)
    return BackupResult(target, _revision(target), pages, target.stat().st_size)


def restore_database(settings: Settings, backup: Path, *, replace: bool) -> BackupResult:
    """Copy a backup made by `back_up_database` into the configured database file.

    The server must be stopped. An existing database is replaced only when asked (`replace`); the key
    directory is restored separately, from its own backup, and must be in place (`infomediary init` must not
    be run first: it would make fresh keys that open nothing in the backup).
    """
    target = sqlite_path(settings)
    backup = backup.expanduser().resolve()
    if not backup.is_file():
        raise BackupRefused(f"no backup file at {backup}")
    if _revision(backup) is None:
        raise BackupRefused(f"{backup} is not an infomediary database backup (no schema revision)")
    conn = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        (check,) = conn.execute("PRAGMA integrity_check").fetchone()
    finally:
        conn.close()
    if check != "ok":
        raise BackupRefused(f"{backup} fails SQLite's integrity check: {check}")
    keys_dir = settings.resolved_keys_dir
    missing = [
        name for name in (KEYRING_FILE, ERASURE_KEYS_FILE, SECRETS_FILE) if not (keys_dir / name).exists()
    ]
    if missing:
        raise BackupRefused(
            f"the key directory {keys_dir} lacks {', '.join(missing)}: restore the key backup there first "
            "(the database backup holds only ciphertext and wrapped keys)"
        )
    if target.exists() and not replace:
        raise BackupRefused(f"a database exists at {target}; stop the server and pass --replace to overwrite")
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = _private_tmp(target)
    try:
        pages = _snapshot(backup, tmp)
        conn = sqlite3.connect(tmp)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
        finally:
            conn.close()
        _fsync(tmp)
        # Stale WAL and shared-memory files of the replaced database must not be replayed into the restore.
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{target}{suffix}").unlink()
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    _fsync(target.parent)
    return BackupResult(target, _revision(target), pages, target.stat().st_size)


def back_up_keys(settings: Settings, destination: Path) -> list[Path]:
    """Copy the key directory's files into the new directory `destination` (0700, files 0600).

    The erasure-key store is a SQLite file the server writes on registration and erasure, so it is copied
    with the online backup API too; the other key files are replaced atomically and copy as they are.
    """
    keys_dir = settings.resolved_keys_dir.resolve()
    target = destination.expanduser().resolve()
    if target == keys_dir or keys_dir in target.parents:
        raise BackupRefused("refusing to back the key directory up into itself")
    if settings.is_sqlite and sqlite_path(settings).parent == target:
        raise BackupRefused("refusing to put key material in the database's directory")
    if target.exists():
        raise BackupRefused(f"{target} exists; a key backup goes into a new directory")
    missing = [name for name in KEY_FILES if not (keys_dir / name).exists()]
    if missing:
        raise BackupRefused(f"the key directory {keys_dir} lacks {', '.join(missing)}")
    target.mkdir(mode=0o700, parents=True)
    os.chmod(target, 0o700)
    written: list[Path] = []
    for name in KEY_FILES:
        tmp = _private_tmp(target / name)
        if name == ERASURE_KEYS_FILE:
            _snapshot(keys_dir / name, tmp)
        else:
            shutil.copyfile(keys_dir / name, tmp)
        os.chmod(tmp, FILE_MODE)
        _fsync(tmp)
        os.replace(tmp, target / name)
        written.append(target / name)
    _fsync(target)
    return written
