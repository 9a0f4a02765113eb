"""`infomediary audit ...`: sign a tree head, export the log to a file, verify a log offline."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Annotated, TypeVar

import httpx
import typer
from rich.console import Console

from infomediary import schema
from infomediary.database import unit_of_work
from infomediary.errors import DomainError
from infomediary.keymaterial import KeyMaterialError
from infomediary.policylog import treehead
from infomediary.policylog.export import export_dump
from infomediary.policylog.integrity import full_check
from infomediary.policylog.offline_verifier import (
    VerificationFailed,
    VerifyResult,
    key_fingerprint,
    load_state,
    save_state,
    verify_dump,
    verify_remote,
)
from infomediary.runtime import Runtime
from infomediary.settings import Settings

audit_app = typer.Typer(
    help="The policy log: sign tree heads, export, verify, check the store.", no_args_is_help=True
)
console = Console()
err = Console(stderr=True)
T = TypeVar("T")


@contextmanager
def _runtime() -> Iterator[Runtime]:
    """Every audit command needs the log's tables: refuse a database not at the current schema."""
    with Runtime.open(Settings()) as runtime:
        schema.require_head(runtime.engine)
        yield runtime


def _guarded(action: Callable[[], T]) -> T:
    try:
        return action()
    except VerificationFailed as exc:
        # Unwrapped: a fingerprint in the message is read and compared whole.
        err.print(f"[bold red]VERIFICATION FAILED:[/] {exc}", soft_wrap=True)
        raise typer.Exit(1) from None
    except DomainError as exc:
        err.print(f"[bold red]error:[/] {exc.detail}")
        raise typer.Exit(1) from None
    except (KeyMaterialError, OSError, ValueError) as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(1) from None


@audit_app.command("sign-tree-head")
def sign_tree_head() -> None:
    """Sign a tree head for the log as it is now."""

    def run() -> None:
        with _runtime() as runtime, unit_of_work(runtime.session_factory) as session:
            head = treehead.refresh(session, runtime, force=True)
        console.print(f"signed tree head at size [bold]{head.tree_size}[/]")
        console.print(head.checkpoint, markup=False, highlight=False)

    _guarded(run)


@audit_app.command("export")
def export(file: Annotated[Path, typer.Option("--file", help="Where to write the dump (JSON).")]) -> None:
    """Write the latest signed tree head and every entry it covers to a file for offline verification."""

    def run() -> None:
        with _runtime() as runtime:
            with unit_of_work(runtime.session_factory) as session:
                treehead.refresh(session, runtime)
            with unit_of_work(runtime.read_session_factory) as session:
                dump = export_dump(session, runtime)
        file.write_text(json.dumps(dump) + "\n")
        console.print(f"wrote {len(dump['entries']):,} entries at tree size {dump['tree_head']['tree_size']}")

    _guarded(run)


@audit_app.command("key")
def key() -> None:
    """Print the log's verifier key and its fingerprint: publish them, so auditors can pin the key."""

    def run() -> None:
        with Runtime.open(Settings()) as runtime:
            verifier_key = treehead.verifier_key(runtime)
        # Plain lines, never wrapped: they are copied into scripts and published.
        typer.echo(verifier_key)
        typer.echo(key_fingerprint(verifier_key))

    _guarded(run)


def _report(result: VerifyResult, state: Path | None) -> None:
    console.print(
        f"[bold green]OK[/] log {result.head.origin}: {result.entries:,} entries recomputed, "
        f"root matches the signed tree head at size {result.head.tree_size}"
    )
    if result.consistent_with is not None:
        console.print(f"consistent with the tree head of size {result.consistent_with} seen before")
    if result.pinned_on_first_use and result.head.verifier_key is not None:
        console.print(
            f"[yellow]pinned key {key_fingerprint(result.head.verifier_key)} on first use (in {state}); "
            "compare it with the operator's published fingerprint[/]",
            highlight=False,
            # One line whatever the terminal's width: the fingerprint is copied and compared as a whole.
            soft_wrap=True,
        )


def _client(url: str) -> AbstractContextManager[httpx.Client]:
    # A seam of its own so tests can hand the command an in-process client.
    return httpx.Client(base_url=url, timeout=30)


@audit_app.command("verify")
def verify(
    url: Annotated[str | None, typer.Option(help="Base URL of a running service.")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="A dump from `audit export`.")] = None,
    client_id: Annotated[str | None, typer.Option(help="Auditor client id (with --url).")] = None,
    client_secret: Annotated[
        str | None, typer.Option(help="Auditor client secret.", envvar="INFOMEDIARY_AUDIT_CLIENT_SECRET")
    ] = None,
    verifier_key: Annotated[
        str | None,
        typer.Option(help="The log's C2SP verifier key, or its sha256: fingerprint, from the operator."),
    ] = None,
    state: Annotated[
        Path | None,
        typer.Option(
            help="File holding the last tree head seen and the pinned key; checked, then updated. With "
            "--url and no key pinned yet, the server's key is pinned into it on first use."
        ),
    ] = None,
) -> None:
    """Recompute the log from its entries and check signature, inclusion and consistency against a pinned
    key (--verifier-key, or --state from an earlier run). Exit 1 on any mismatch, or if no key is pinned."""

    def run() -> None:
        if (url is None) == (file is None):
            raise VerificationFailed("give exactly one of --url or --file")
        previous = load_state(state) if state else None
        if file is not None:
            result = verify_dump(json.loads(file.read_text()), verifier_key=verifier_key, previous=previous)
        else:
            if not client_id or not client_secret:
                raise VerificationFailed("--url needs --client-id and --client-secret")
            with _client(str(url)) as client:
                result = verify_remote(
                    client,
                    client_id=client_id,
                    client_secret=client_secret,
                    verifier_key=verifier_key,
                    previous=previous,
                    # Only where the key it takes is kept: without a state file it would be trusted anew
                    # on every run, which is no pin at all.
                    trust_on_first_use=state is not None,
                )
        if state:
            save_state(state, result.head)
        _report(result, state)

    _guarded(run)


@audit_app.command("check")
def check() -> None:
    """Check that the stored log is whole: its size, entries and perfect nodes agree (the start-up check,
    on demand, e.g. after a repair and before a restart). Exit 1 if not. It recomputes no hash: that is
    `audit verify`."""

    def run() -> None:
        with _runtime() as runtime, runtime.read_session_factory() as session:
            finding = full_check(session)
        if not finding.whole:
            err.print(f"[bold red]NOT WHOLE:[/] {finding.describe()}", highlight=False, soft_wrap=True)
            raise typer.Exit(1)
        console.print(f"[bold green]OK[/] {finding.describe()}")

    _guarded(run)
