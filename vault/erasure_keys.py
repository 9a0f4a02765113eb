"""Erasure keys: one random secret per subject, kept with the key material outside the database.

Why they exist. A subject's data key is stored in the database, wrapped by a key-encryption key (KEK).
Deleting that wrapped key is not enough to crypto-shred: a database backup taken before the erasure still
holds it, and the KEK that unwraps it is still in the key file. Any secret kept only in the database shares
the backup's fate, so the secret whose destruction erases must live on the key side. Binding it as associated
data would not do either: AES-GCM's associated data is authenticated, not secret, and whoever holds the KEK
can still decrypt the ciphertext by running the counter mode and ignoring the tag.

So the key a subject's fields are encrypted under is derived from both halves,
``HKDF-SHA256(ikm=data key, salt=erasure key, info=label || subject)``: the data key (in the database,
wrapped by the rotating KEK) and the erasure key (here, 256 random bits). Destroying the erasure key makes
every copy of the subject's ciphertext unreadable, backups included, while the database copy of the wrapped
key stays harmless. Key rotation rewraps only the data key and never touches erasure keys.

Aliases. The names a subject is found by from outside (a login address's blind index, the id the subject
is shown, the secret behind the pseudonyms others know her by) are kept here too, next to the key, and
deleted with it: a name the database held would tie every row of the subject in a database backup to her
long after her key was destroyed, for whoever can compute the name (the blind index is computable by anyone
with the current key material and her address). With the names here, a database backup holds only the
subject's opaque internal id, which nothing outside maps to her once her key and aliases are gone.

``LocalErasureKeyStore`` keeps them in a SQLite file next to the key file (0600 in a 0700 directory), shared
by the processes of one machine. An external KMS (per-subject keys, or a key-side table) takes its place
beyond one machine. Backups of the key directory must not outlive erasures: a copy of this file taken before
an erasure would resurrect the subject, exactly as a copy of a KMS key would.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from vault.aad import encode_parts
from vault.errors import DataKeyDestroyed, KeyFileError

ERASURE_KEY_BYTES = 32
_FIELD_KEY_LABEL = b"infomediary.vault.field-key.v1"


def derive_field_key(data_key: bytes, erasure_key: bytes, subject_id: str) -> bytes:
    """The AES-256 key a subject's fields are sealed under: needs both the data key and the erasure key."""
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=erasure_key,
        info=encode_parts(_FIELD_KEY_LABEL, subject_id.encode("utf-8")),
    ).derive(data_key)


@runtime_checkable
class ErasureKeyStore(Protocol):
    """Per-subject erasure keys outside the database. Implementations must be safe across threads."""

    def create(self, subject_ids: Iterable[str]) -> Mapping[str, bytes]:
        """Give each subject a fresh erasure key and return them (so a caller that seals at once need not
        read each back); a subject that already has one is an error."""
        ...

    def get(self, subject_id: str) -> bytes:
        """The subject's erasure key; raises :class:`DataKeyDestroyed` when it was destroyed or never made."""
        ...

    def destroy(self, subject_id: str) -> bool:
        """Destroy the subject's erasure key for good, leaving a tombstone; True if there was a key."""
        ...

    def present(self, subject_ids: Iterable[str]) -> set[str]:
        """Which of `subject_ids` still have an erasure key."""
        ...

    def tombstones(self) -> set[str]:
        """Every subject whose erasure key was destroyed here: what a restored database must not revive."""
        ...

    def bind(self, kind: str, value: str, subject_id: str, *, replacing: str | None = None) -> str | None:
        """Name `subject_id` by (`kind`, `value`). Returns None when bound; when another subject holds the
        name, binds nothing and returns that holder, unless it is `replacing` (the caller found it stale),
        which is then replaced in one step (so two callers cannot both take a stale name)."""
        ...

    def bind_many(self, kind: str, names: Mapping[str, str]) -> None:
        """Bind many names at once (subject -> name), for bulk loading into a new database: a name already
        held is taken over (the loader's subjects are the only live ones)."""
        ...

    def unbind(self, kind: str, subject_id: str) -> None:
        """Remove the subject's names of this kind."""
        ...

    def subject_of(self, kind: str, value: str) -> str | None:
        """The subject named by (`kind`, `value`), if any."""
        ...

    def names_of(self, kind: str, subject_ids: Iterable[str]) -> dict[str, str]:
        """subject -> its name of this kind, for those of `subject_ids` that have one."""
        ...

    def subjects_named(self, kind: str, values: Iterable[str]) -> dict[str, str]:
        """name -> subject, for those of `values` that name one."""
        ...


_REPLACE_ALIAS = (
    "INSERT OR REPLACE INTO subject_aliases (kind, value, subject_id, bound_at) VALUES (?, ?, ?, ?)"
)


class LocalErasureKeyStore:
    """Erasure keys in a private SQLite file. Every call opens its own connection: calls are rare (a data-key
    cache miss, a registration, an erasure), and a connection per call is safe from any thread or process."""

    def __init__(self, path: Path) -> None:
        self._path = path
        if not path.exists():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            # Create the file private before SQLite opens it; SQLite gives its WAL files the same mode.
            with contextlib.suppress(FileExistsError):
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise KeyFileError(path, f"is readable or writable by other users (mode {mode:o}); chmod 600 it")
        with self._connect(transaction=False) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS erasure_keys (subject_id TEXT PRIMARY KEY, secret BLOB NOT NULL)"
            )
            # One row per erasure, kept for good (an id and a time, no secret): a database restored from a
            # backup older than an erasure brings the subject's rows back, and this is how they are known.
            conn.execute(
                "CREATE TABLE IF NOT EXISTS erasure_tombstones"
                " (subject_id TEXT PRIMARY KEY, destroyed_at TEXT NOT NULL)"
            )
            # The names a subject is found by from outside, deleted with her key (see the module docstring).
            conn.execute(
                "CREATE TABLE IF NOT EXISTS subject_aliases (kind TEXT NOT NULL, value TEXT NOT NULL,"
                " subject_id TEXT NOT NULL, bound_at TEXT NOT NULL, PRIMARY KEY (kind, value))"
            )
            conn.execute(
                "CREATE INDEX IF NOT EXISTS ix_subject_aliases_subject ON subject_aliases (subject_id, kind)"
            )

    @property
    def path(self) -> Path:
        return self._path

    def create(self, subject_ids: Iterable[str]) -> Mapping[str, bytes]:
        rows = [(subject_id, secrets.token_bytes(ERASURE_KEY_BYTES)) for subject_id in subject_ids]
        with self._connect() as conn:
            try:
                conn.executemany("INSERT INTO erasure_keys (subject_id, secret) VALUES (?, ?)", rows)
            except sqlite3.IntegrityError:
                raise ValueError("a subject already has an erasure key") from None
        return dict(rows)

    def get(self, subject_id: str) -> bytes:
        # One SELECT is atomic on its own: no write lock (BEGIN IMMEDIATE) that would queue every reader of
        # every process behind each other.
        with self._connect(transaction=False) as conn:
            row = conn.execute(
                "SELECT secret FROM erasure_keys WHERE subject_id = ?", (subject_id,)
            ).fetchone()
        if row is None:
            raise DataKeyDestroyed(subject_id)
        secret: bytes = row[0]
        return secret

    def destroy(self, subject_id: str) -> bool:
        with self._connect() as conn:
            deleted = conn.execute("DELETE FROM erasure_keys WHERE subject_id = ?", (subject_id,)).rowcount
            conn.execute("DELETE FROM subject_aliases WHERE subject_id = ?", (subject_id,))
            conn.execute(
                "INSERT OR IGNORE INTO erasure_tombstones (subject_id, destroyed_at) VALUES (?, ?)",
                (subject_id, datetime.now(UTC).isoformat()),
            )
        with self._connect(transaction=False) as conn:
            # The old page image may still sit in the write-ahead log; fold it in and truncate the log.
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return bool(deleted)

    def present(self, subject_ids: Iterable[str]) -> set[str]:
        # The ids as one JSON array parameter: any number of them, and no SQL built from them.
        with self._connect(transaction=False) as conn:
            rows = conn.execute(
                "SELECT subject_id FROM erasure_keys WHERE subject_id IN (SELECT value FROM json_each(?))",
                (json.dumps(list(subject_ids)),),
            )
            return {row[0] for row in rows}

    def tombstones(self) -> set[str]:
        with self._connect(transaction=False) as conn:
            return {row[0] for row in conn.execute("SELECT subject_id FROM erasure_tombstones")}

    def bind(self, kind: str, value: str, subject_id: str, *, replacing: str | None = None) -> str | None:
        with self._connect() as conn:
            row = conn.execute(
                "SELECT subject_id FROM subject_aliases WHERE kind = ? AND value = ?", (kind, value)
            ).fetchone()
            if row is not None and row[0] != subject_id and row[0] != replacing:
                holder: str = row[0]
                return holder
            conn.execute(
                _REPLACE_ALIAS,
                (kind, value, subject_id, datetime.now(UTC).isoformat()),
            )
        return None

    def bind_many(self, kind: str, names: Mapping[str, str]) -> None:
        now = datetime.now(UTC).isoformat()
        with self._connect() as conn:
            conn.executemany(
                _REPLACE_ALIAS,
                [(kind, value, subject_id, now) for subject_id, value in names.items()],
            )

    def unbind(self, kind: str, subject_id: str) -> None:
        with self._connect() as conn:
            conn.execute("DELETE FROM subject_aliases WHERE subject_id = ? AND kind = ?", (subject_id, kind))

    def subject_of(self, kind: str, value: str) -> str | None:
        with self._connect(transaction=False) as conn:
            row = conn.execute(
                "SELECT subject_id FROM subject_aliases WHERE kind = ? AND value = ?", (kind, value)
            ).fetchone()
        return None if row is None else str(row[0])

    def names_of(self, kind: str, subject_ids: Iterable[str]) -> dict[str, str]:
        with self._connect(transaction=False) as conn:
            rows = conn.execute(
                "SELECT subject_id, value FROM subject_aliases WHERE kind = ?"
                " AND subject_id IN (SELECT value FROM json_each(?))",
                (kind, json.dumps(list(subject_ids))),
            )
            return {str(subject): str(value) for subject, value in rows}

    def subjects_named(self, kind: str, values: Iterable[str]) -> dict[str, str]:
        with self._connect(transaction=False) as conn:
            rows = conn.execute(
                "SELECT value, subject_id FROM subject_aliases WHERE kind = ?"
                " AND value IN (SELECT value FROM json_each(?))",
                (kind, json.dumps(list(values))),
            )
            return {str(value): str(subject) for value, subject in rows}

    def __len__(self) -> int:
        with self._connect() as conn:
            count: int = conn.execute("SELECT count(*) FROM erasure_keys").fetchone()[0]
        return count

    @contextlib.contextmanager
    def _connect(self, *, transaction: bool = True) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self._path, timeout=30, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout=30000")
            # Overwrite deleted rows with zeros, so a destroyed key does not survive in a free page.
            conn.execute("PRAGMA secure_delete=ON")
            if not transaction:
                yield conn
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()
