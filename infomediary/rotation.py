"""Online key rotation: add a key-encryption key version, rewrap every customer's data key in batches.

Above the domains it spans: the key-encryption keys wrap customers' data keys (`profiles`) and webhook
signing secrets (`webhooks`), so the rotation counts and rewraps both.

Each batch is its own short transaction (ordered by customer id, only keys below the target version), so the
service keeps answering, readers see either the old or the new wrapping (both unwrap), and a rotation that
stops halfway resumes where it stopped: the next run selects only what is still on an older version. Data
keys themselves never change, so no field is re-encrypted. A version is retired only once no key uses it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from infomediary.database import WriteSession, unit_of_work, utcnow
from infomediary.policylog import kinds
from infomediary.policylog.service import append as log_append
from infomediary.profiles import repository
from infomediary.runtime import Runtime
from infomediary.webhooks import secret as webhook_secret
from vault import WrappedKey


@dataclass(frozen=True)
class VersionStatus:
    version: int
    created_at: datetime
    current: bool
    retired: bool
    keys: int


def _keys_per_version(session: Session) -> dict[int, int]:
    """Customers' data keys and webhook signing secrets: both are wrapped by the key-encryption keys."""
    counts = repository.keys_per_version(session)
    for version, count in webhook_secret.per_version(session).items():
        counts[version] = counts.get(version, 0) + count
    return counts


def status(runtime: Runtime) -> list[VersionStatus]:
    with unit_of_work(runtime.read_session_factory) as session:
        counts = _keys_per_version(session)
    provider = runtime.vault.provider
    current = provider.current_version()
    return [
        VersionStatus(
            info.version, info.created_at, info.version == current, info.retired, counts.get(info.version, 0)
        )
        for info in provider.versions()
    ]


def pending(runtime: Runtime, target: int | None = None) -> int:
    """How many data keys are wrapped under a version older than ``target`` (default: the current one)."""
    target = target or runtime.vault.provider.current_version()
    with unit_of_work(runtime.read_session_factory) as session:
        return sum(count for version, count in _keys_per_version(session).items() if version < target)


def add_version(runtime: Runtime) -> int:
    """Make a new key-encryption key version current; new data keys are wrapped under it at once.

    The entry commits only if the rotation succeeded; the rotation itself is a write to the key file.
    """
    with unit_of_work(runtime.session_factory) as session:
        version = runtime.vault.provider.rotate()
        _log(session, {"phase": "added", "version": version})
    return version


def _log(session: WriteSession, details: dict[str, int | str]) -> None:
    log_append(session, {"kind": kinds.KEYS_KEK_ROTATED, "details": details})


def rewrap(
    runtime: Runtime,
    *,
    batch_size: int | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """Rewrap every data key below the current version, one transaction per batch; returns how many.

    ``on_batch`` is called after each committed batch with its size (a progress bar, or a test that
    interrupts the rotation).
    """
    vault = runtime.vault
    target = vault.provider.current_version()
    size = batch_size or runtime.settings.key_rotation_batch
    total = 0
    while True:
        with unit_of_work(runtime.session_factory) as session:
            rows = repository.keys_below_version(session, target, size)
            now = utcnow()
            for row in rows:
                wrapped = vault.rewrap(row.customer_id, WrappedKey.from_bytes(row.wrapped_key))
                row.wrapped_key, row.kek_version, row.rewrapped_at = (
                    wrapped.to_bytes(),
                    wrapped.kek_version,
                    now,
                )
        if not rows:
            with unit_of_work(runtime.session_factory) as session:
                total += webhook_secret.rewrap(session, runtime)
            if total:
                with unit_of_work(runtime.session_factory) as session:
                    _log(session, {"phase": "rewrapped", "version": target, "data_keys": total})
            return total
        total += len(rows)
        if on_batch is not None:
            on_batch(len(rows))


def retire_unused(runtime: Runtime) -> list[int]:
    """Retire every older version that wraps no data key any more; returns the versions retired."""
    retired = []
    for entry in status(runtime):
        if not entry.current and not entry.retired and entry.keys == 0:
            with unit_of_work(runtime.session_factory) as session:
                runtime.vault.provider.retire(entry.version)
                _log(session, {"phase": "retired", "version": entry.version})
            retired.append(entry.version)
    return retired
