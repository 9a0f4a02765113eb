"""The `infomediary` command line: initialise, serve, migrate, register suppliers and auditors, seed demos."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy.exc import OperationalError

from infomediary import rotation, schema
from infomediary.backup_cli import (
    backup_command,
    backup_keys_command,
    reconcile_erasures,
    report_erasures,
    restore_command,
)
from infomediary.database import unit_of_work
from infomediary.demo import seed_demo
from infomediary.errors import DomainError
from infomediary.flows import auditor_registered, supplier_registered
from infomediary.ids import new_id
from infomediary.keymaterial import KeyMaterialError
from infomediary.ledger import repository as ledger_repository
from infomediary.ledger import service as ledger
from infomediary.ledger.models import OwnerKind
from infomediary.mail.cli import mail_app
from infomediary.offers import refunds as offer_refunds
from infomediary.operators import service as operators
from infomediary.operators.models import OperatorKind
from infomediary.policylog import kinds as log_kinds
from infomediary.policylog.cli import audit_app
from infomediary.policylog.service import append as log_append
from infomediary.recommendations.cli import recommend_app
from infomediary.relay.cli import relay_app
from infomediary.runtime import Runtime
from infomediary.sanctions import status as supplier_status
from infomediary.settings import SUPPLIER_SCOPES, Settings
from infomediary.suppliers import service as suppliers
from infomediary.suppliers.models import SupplierStatus
from infomediary.webhooks.cli import events_app
from vault import VaultError

app = typer.Typer(
    help="Infomediary: a privacy-first broker between customers and suppliers.", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema (Alembic).", no_args_is_help=True)
suppliers_app = typer.Typer(help="Register and manage suppliers.", no_args_is_help=True)
auditors_app = typer.Typer(help="Register auditors.", no_args_is_help=True)
keys_app = typer.Typer(help="Key material.", no_args_is_help=True)
offers_app = typer.Typer(help="Offers.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(suppliers_app, name="suppliers")
app.add_typer(auditors_app, name="auditors")
app.add_typer(keys_app, name="keys")
app.add_typer(offers_app, name="offers")
app.add_typer(audit_app, name="audit")
app.add_typer(events_app, name="events")
app.command("backup")(backup_command)
app.command("backup-keys")(backup_keys_command)
app.command("restore")(restore_command)
app.add_typer(recommend_app, name="recommend")
app.add_typer(mail_app, name="mail")
app.add_typer(relay_app, name="relay")

console = Console()
err = Console(stderr=True)
T = TypeVar("T")


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


def _guarded(action: Callable[[], T]) -> T:
    """Turn expected failures into a one-line message and a non-zero exit code."""
    try:
        return action()
    except DomainError as exc:
        raise _fail(exc.detail) from None
    except (KeyMaterialError, VaultError) as exc:
        raise _fail(str(exc)) from None
    except OperationalError as exc:
        raise _fail(
            f"cannot reach the database: {exc.orig.__class__.__name__ if exc.orig else exc}"
        ) from None


def _require_ready(runtime: Runtime) -> None:
    schema.require_head(runtime.engine)
    runtime.keys.signing_keys()


@app.command()
def init() -> None:
    """Create ./var (or INFOMEDIARY_DATA_DIR), the key files and the database at the current schema."""

    def run() -> None:
        with Runtime.open(Settings()) as runtime:
            created = runtime.keys.ensure()
            before = schema.current_revision(runtime.engine)
            schema.upgrade(runtime.engine)
            state = "created" if created else "present"
            console.print(f"key material: [bold]{runtime.settings.resolved_keys_dir}[/] ({state})")
            where = runtime.settings.resolved_database_url.split("@")[-1]
            console.print(f"database: [bold]{where}[/] at {schema.head_revision()} (was {before or 'empty'})")

    _guarded(run)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Serve the API with uvicorn. Refuses a database that is not at the current schema."""
    import uvicorn

    def check() -> None:
        with Runtime.open(Settings()) as runtime:
            _require_ready(runtime)
            # A database restored from a backup older than an erasure holds the erased customer again.
            reconcile_erasures(runtime, quiet=True)

    _guarded(check)
    console.print(f"serving on [bold]http://{host}:{port}[/] (docs at /docs)")
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
        proxy_headers=True,
    )


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Apply migrations up to the target revision."""

    def run() -> None:
        with Runtime.open(Settings()) as runtime:
            schema.upgrade(runtime.engine, revision)
            console.print(f"database at {schema.current_revision(runtime.engine)}")

    _guarded(run)


@db_app.command("current")
def db_current() -> None:
    """Show the database's revision and the code's head."""

    def run() -> None:
        with Runtime.open(Settings()) as runtime:
            current = schema.current_revision(runtime.engine) or "empty"
            console.print(f"database: {current}; code: {schema.head_revision()}")

    _guarded(run)


def _print_credentials(
    kind: str, name: str, owner_id: str, client_id: str, client_secret: str, as_json: bool
) -> None:
    if as_json:
        typer.echo(
            json.dumps({"id": owner_id, "name": name, "client_id": client_id, "client_secret": client_secret})
        )
        return
    console.print(f"{kind} [bold]{name}[/] registered as {owner_id}")
    console.print(f"client_id:     [bold]{client_id}[/]")
    console.print(f"client_secret: [bold]{client_secret}[/]")
    console.print("[yellow]The secret is shown once and stored only hashed; keep it now.[/]")


@suppliers_app.command("add")
def suppliers_add(
    name: str,
    scope: Annotated[
        list[str] | None,
        typer.Option("--scope", help=f"Repeatable; default all: {', '.join(SUPPLIER_SCOPES)}."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the credentials as JSON.")] = False,
) -> None:
    """Register a supplier and print its OAuth client credentials once."""

    def run() -> None:
        with Runtime.open(Settings()) as runtime:
            _require_ready(runtime)
            with unit_of_work(runtime.session_factory) as session:
                view, credentials = supplier_registered.register_supplier(
                    session, name=name, scopes=scope or list(SUPPLIER_SCOPES)
                )
            _print_credentials(
                "supplier", view.name, view.id, credentials.client_id, credentials.client_secret, as_json
            )

    _guarded(run)


@suppliers_app.command("list")
def suppliers_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List suppliers and their status."""

    def run() -> None:
        with Runtime.open(Settings()) as runtime:
            _require_ready(runtime)
            with unit_of_work(runtime.session_factory) as session:
                views = suppliers.list_all(session)
        if as_json:
            typer.echo(json.dumps([{"id": v.id, "name": v.name, "status": v.status} for v in views]))
            return
        table = Table("name", "status", "created")
        table.add_column("id", no_wrap=True)
        for v in views:
            table.add_row(v.name, v.status, v.created_at.isoformat(timespec="seconds"), v.id)
        console.print(table)

    _guarded(run)


def _set_status(name_or_id: str, status: SupplierStatus) -> None:
    def run() -> None:
        with Runtime.open(Settings()) as runtime:
            _require_ready(runtime)
            with unit_of_work(runtime.session_factory) as session:
                view = supplier_status.set_status(session, name_or_id, status)
            console.print(f"supplier [bold]{view.name}[/] is now {view.status}")

    _guarded(run)


@suppliers_app.command("suspend")
def suppliers_suspend(name_or_id: str) -> None:
    """Suspend a supplier: its tokens stop working at once."""
    _set_status(name_or_id, SupplierStatus.SUSPENDED)


@suppliers_app.command("resume")
def suppliers_resume(name_or_id: str) -> None:
    """Make a suspended supplier active again."""
    _set_status(name_or_id, SupplierStatus.ACTIVE)


@suppliers_app.command("credit")
def suppliers_credit(
    name_or_id: str,
    amount: Annotated[int, typer.Argument(min=1, help="Integer credits to add to the supplier's account.")],
    key: Annotated[
        str | None,
        typer.Option("--key", help="Idempotency key: running again with the same key credits only once."),
    ] = None,
) -> None:
    """Top up a supplier's ledger account (it paid the broker), idempotently with --key."""

    def run() -> None:
        with Runtime.open(Settings()) as runtime:
            _require_ready(runtime)
            idempotency_key = key or new_id("topup")
            with unit_of_work(runtime.session_factory) as session:
                found = suppliers.find(session, name_or_id)
                posted = ledger.top_up(
                    session, supplier_id=found.id, amount=amount, idempotency_key=idempotency_key
                )
                balance = ledger_repository.balance_of(session, OwnerKind.SUPPLIER, found.id)
                name = found.name
            done = "already credited (same key)" if posted.replayed else f"credited {amount}"
            console.print(f"supplier [bold]{name}[/] {done}; balance {balance} (key {idempotency_key})")

    _guarded(run)


@offers_app.command("settle")
def offers_settle() -> None:
    """Refund the unspent budget of expired offers (each once; safe to run again, e.g. from cron)."""

    def run() -> None:
        with Runtime.open(Settings()) as runtime:
            _require_ready(runtime)
            settled, batch = 0, offer_refunds.MAX_SETTLED_PER_RUN
            # One transaction per batch, so a long backlog neither holds locks nor starts over on failure.
            while batch == offer_refunds.MAX_SETTLED_PER_RUN:
                with unit_of_work(runtime.session_factory) as session:
                    batch = offer_refunds.settle_expired(session)
                settled += batch
            console.print(f"settled {settled} expired offer(s)")

    _guarded(run)


@auditors_app.command("add")
def auditors_add(
    name: str, as_json: Annotated[bool, typer.Option("--json", help="Print the credentials as JSON.")] = False
) -> None:
    """Register an auditor (scopes audit:read and audit:write) and print its credentials once."""

    def run() -> None:
        with Runtime.open(Settings()) as runtime:
            _require_ready(runtime)
            with unit_of_work(runtime.session_factory) as session:
                auditor_id, credentials = auditor_registered.register_auditor(session, name=name)
            _print_credentials(
                "auditor", name, auditor_id, credentials.client_id, credentials.client_secret, as_json
            )

    _guarded(run)


GeneratePassword = Annotated[
    bool,
    typer.Option(
        "--generate-password", help="Make a random password and print it once, instead of prompting for one."
    ),
]


def _add_operator(kind: OperatorKind, owner: str, login: str, generate: bool, as_json: bool) -> None:
    # Prompted (hidden, twice) rather than an argument: a password on the command line lands in `ps` and in
    # shell history.
    password = (
        secrets.token_urlsafe(18)
        if generate
        else typer.prompt("password (12 to 256 characters)", hide_input=True, confirmation_prompt=True)
    )

    def run() -> None:
        with Runtime.open(Settings()) as runtime:
            _require_ready(runtime)
            with unit_of_work(runtime.session_factory) as session:
                view = operators.add(session, runtime, kind=kind, owner=owner, login=login, password=password)
        where = "/supplier" if kind is OperatorKind.SUPPLIER else "/audit"
        if as_json:
            shown = {"id": view.id, "kind": kind.value, "owner_id": view.owner_id, "login": login}
            if generate:
                shown["password"] = password
            typer.echo(json.dumps(shown))
            return
        console.print(f"{kind.value} operator [bold]{login}[/] added for {view.owner_name} ({view.owner_id})")
        console.print(f"signs in at {runtime.settings.issuer.rstrip('/')}{where}")
        if generate:
            console.print(f"password: [bold]{password}[/]")
            console.print("[yellow]The password is shown once and stored only as an argon2id hash.[/]")

    _guarded(run)


def _disable_operator(login: str) -> None:
    def run() -> None:
        with Runtime.open(Settings()) as runtime:
            _require_ready(runtime)
            with unit_of_work(runtime.session_factory) as session:
                view = operators.disable(session, runtime, login=login)
        console.print(f"operator of {view.owner_name} disabled; its sessions are ended")

    _guarded(run)


@suppliers_app.command("add-operator")
def suppliers_add_operator(
    supplier: Annotated[str, typer.Argument(help="The supplier's name or id.")],
    login: Annotated[str, typer.Argument(help="The operator's email address, used to sign in.")],
    generate: GeneratePassword = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Add a person who signs in to the supplier console (/supplier) for this supplier only."""
    _add_operator(OperatorKind.SUPPLIER, supplier, login, generate, as_json)


@suppliers_app.command("disable-operator")
def suppliers_disable_operator(login: str) -> None:
    """Disable a supplier-console operator and end its sessions."""
    _disable_operator(login)


@auditors_app.command("add-operator")
def auditors_add_operator(
    auditor: Annotated[str, typer.Argument(help="The auditor's name or id.")],
    login: Annotated[str, typer.Argument(help="The operator's email address, used to sign in.")],
    generate: GeneratePassword = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Add a person who signs in to the auditor view (/audit) for this auditor."""
    _add_operator(OperatorKind.AUDITOR, auditor, login, generate, as_json)


@auditors_app.command("disable-operator")
def auditors_disable_operator(login: str) -> None:
    """Disable an auditor-view operator and end its sessions."""
    _disable_operator(login)


@keys_app.command("rotate-signing")
def keys_rotate_signing() -> None:
    """Add a new token-signing key; older keys stay in the JWKS so unexpired tokens keep verifying."""

    def run() -> None:
        with Runtime.open(Settings()) as runtime:
            _require_ready(runtime)
            # The log entry commits only if the rotation succeeded; the rotation itself is a file write.
            with unit_of_work(runtime.session_factory) as session:
                new = runtime.keys.rotate_signing_key()
                log_append(session, {"kind": log_kinds.KEYS_SIGNING_ROTATED, "details": {"kid": new.kid}})
            console.print(
                f"new signing key {new.kid}; JWKS now lists {len(runtime.keys.signing_keys())} keys"
            )

    _guarded(run)


@keys_app.command("rotate")
def keys_rotate(
    batch_size: Annotated[int | None, typer.Option(help="Data keys per transaction.", min=1)] = None,
    retire_old: Annotated[
        bool, typer.Option("--retire-old", help="Afterwards, retire versions that wrap no key any more.")
    ] = False,
) -> None:
    """Add a key-encryption key version and rewrap every customer's data key online, in batches.

    If an earlier rotation was interrupted (keys still on an older version), it resumes that one instead
    of adding another version.
    """

    def run() -> None:
        with Runtime.open(Settings()) as runtime:
            _require_ready(runtime)
            left = rotation.pending(runtime)
            if left:
                target = runtime.vault.provider.current_version()
                console.print(f"resuming the rotation to version {target}: {left} data keys left")
            else:
                target = rotation.add_version(runtime)
                left = rotation.pending(runtime)
                console.print(
                    f"key-encryption key version {target} is now current; rewrapping {left} data keys"
                )
            with Progress(console=console, transient=False) as progress:
                task = progress.add_task("rewrapping data keys", total=left)
                done = rotation.rewrap(
                    runtime, batch_size=batch_size, on_batch=lambda n: progress.advance(task, n)
                )
            console.print(f"rewrapped {done} data keys under version {target}")
            if retire_old:
                retired = rotation.retire_unused(runtime)
                console.print(f"retired versions: {', '.join(map(str, retired)) or 'none'}")

    _guarded(run)


@keys_app.command("reconcile")
def keys_reconcile() -> None:
    """Purge every customer whose erasure key is gone (a restored backup older than their erasure)."""

    def run() -> None:
        with Runtime.open(Settings()) as runtime:
            _require_ready(runtime)
            reconcile_erasures(runtime)

    _guarded(run)


@keys_app.command("status")
def keys_status(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """How many customers' data keys each key-encryption key version wraps, and the erasures the erasure key
    store remembers (with any customer a restore brought back and not yet reconciled)."""

    def run() -> None:
        with Runtime.open(Settings()) as runtime:
            _require_ready(runtime)
            entries = rotation.status(runtime)
            if as_json:
                typer.echo(
                    json.dumps(
                        [
                            {"version": e.version, "keys": e.keys, "current": e.current, "retired": e.retired}
                            for e in entries
                        ]
                    )
                )
                return
            table = Table("version", "created", "keys wrapped", "current", "retired")
            for e in entries:
                table.add_row(
                    str(e.version),
                    e.created_at.isoformat(timespec="seconds"),
                    str(e.keys),
                    "yes" if e.current else "",
                    "yes" if e.retired else "",
                )
            console.print(table)
            report_erasures(runtime)

    _guarded(run)


@app.command()
def demo(
    customers: Annotated[int, typer.Option(help="How many synthetic customers.", min=1, max=2_000_000)] = 200,
    seed: Annotated[int, typer.Option(help="Random seed, for a reproducible population.")] = 7,
) -> None:
    """Seed a demo population: customers, a demo supplier and an auditor. Writes logins to var/demo.json."""

    def run() -> dict[str, Any]:
        with Runtime.open(Settings()) as runtime:
            runtime.keys.ensure()
            schema.upgrade(runtime.engine)
            return seed_demo(runtime, customers=customers, seed=seed, console=console)

    summary = _guarded(run)
    console.print_json(json.dumps(summary))
