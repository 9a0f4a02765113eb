"""`infomediary backup`, `backup-keys` and `restore`: consistent snapshots of the embedded database, and of
the key directory kept apart from them."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from infomediary import backup, schema
from infomediary.database import unit_of_work
from infomediary.errors import DomainError
from infomediary.flows import erasures_reconciled
from infomediary.keymaterial import KeyMaterialError
from infomediary.runtime import Runtime
from infomediary.settings import Settings

console = Console()
err = Console(stderr=True)


def reconcile_erasures(runtime: Runtime, *, quiet: bool = False) -> erasures_reconciled.Reconciled:
    """Purge the customers whose erasure key is gone (`flows.erasures_reconciled`), and say so."""
    with unit_of_work(runtime.session_factory) as session:
        done = erasures_reconciled.reconcile(session, runtime)
    if done.purged:
        console.print(
            f"[yellow]purged {done.purged} erased customer(s) whose rows a restored backup had brought back "
            f"({done.tombstoned} named by the erasure key store's tombstones)[/]"
        )
    elif not quiet:
        console.print("no erased customer in the database: nothing to purge")
    if done.adopted:
        console.print(
            f"moved the login names of {done.adopted} account(s) from the database to the erasure key store"
        )
    return done


def report_erasures(runtime: Runtime) -> None:
    """The erasures the key store remembers, and any customer still in the database without a key."""
    with runtime.read_session_factory() as session:
        found = erasures_reconciled.standing(session, runtime)
    console.print(
        f"erasures: {found.tombstones} tombstone(s) in the erasure key store; "
        f"{found.unreconciled} customer(s) in the database whose erasure key is gone"
        + (" (run `infomediary keys reconcile`)" if found.unreconciled else "")
    )


def _fail(exc: Exception) -> typer.Exit:
    message = exc.detail if isinstance(exc, DomainError) else str(exc)
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(1)


def backup_command(
    destination: Annotated[
        Path, typer.Argument(help="A new file, or an existing directory for a time-stamped file.")
    ],
) -> None:
    """Write a consistent snapshot of the embedded SQLite database (safe while the server runs).

    Key material is never included, and the backup is refused in or next to the key directory: back the
    keys up separately with `infomediary backup-keys`.
    """
    try:
        with console.status("copying the database (SQLite online backup)"):
            result = backup.back_up_database(Settings(), destination)
    except (DomainError, OSError) as exc:
        raise _fail(exc) from None
    console.print(
        f"database backup [bold]{result.path}[/] ({result.size} bytes, {result.pages} pages, "
        f"schema {result.revision}); key material not included"
    )
    # A restore of this backup, with keys taken later, purges whoever is erased after it.
    with contextlib.suppress(DomainError, KeyMaterialError, OSError), Runtime.open(Settings()) as runtime:
        report_erasures(runtime)


def backup_keys_command(
    destination: Annotated[Path, typer.Argument(help="A new directory, away from the database backups.")],
) -> None:
    """Copy the key directory (key-encryption keys, erasure keys, secrets, signing keys) to a new directory.

    Keep it apart from database backups and no longer than erased customers may stay erased: a key backup
    taken before an erasure still holds that customer's erasure key.
    """
    try:
        written = backup.back_up_keys(Settings(), destination)
    except (DomainError, OSError) as exc:
        raise _fail(exc) from None
    console.print(f"key backup in [bold]{destination}[/]: {', '.join(p.name for p in written)}")


def restore_command(
    source: Annotated[Path, typer.Argument(help="A file written by `infomediary backup`.")],
    replace: Annotated[
        bool, typer.Option("--replace", help="Overwrite an existing database (stop the server first).")
    ] = False,
) -> None:
    """Restore a database backup into the configured data directory (the server must be stopped).

    Restore the key directory first, from its own backup; then run `infomediary db upgrade` if the backup
    is from an older release.
    """
    try:
        result = backup.restore_database(Settings(), source, replace=replace)
    except (DomainError, OSError) as exc:
        raise _fail(exc) from None
    console.print(f"restored [bold]{result.path}[/] at schema {result.revision} ({result.size} bytes)")
    # The backup may be older than erasures: their customers' rows are back, their keys are not.
    try:
        with Runtime.open(Settings()) as runtime:
            if schema.current_revision(runtime.engine) == schema.head_revision():
                reconcile_erasures(runtime)
                return
    except (DomainError, KeyMaterialError, OSError) as exc:
        err.print(f"[yellow]erased customers were not reconciled yet:[/] {exc}")
    console.print(
        "run `infomediary db upgrade` if needed: `infomediary serve` purges erased customers the backup "
        "brought back before it serves (or run `infomediary keys reconcile`)"
    )
