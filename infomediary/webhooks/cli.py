"""`infomediary events deliver`: send the outbox's due webhook deliveries, once or continuously.

A separate process rather than a task inside the API server: it can be restarted, scaled and stopped on
its own, a slow receiver never holds an API worker, and with several API workers there is no question of
which one delivers. Several `deliver --watch` processes may run at once: deliveries are claimed with
`SELECT ... FOR UPDATE SKIP LOCKED` (PostgreSQL) and leased, so each attempt is made by one of them.
"""

from __future__ import annotations

import time
from typing import Annotated

import httpx
import typer
from rich.console import Console

from infomediary import schema
from infomediary.errors import DomainError
from infomediary.runtime import Runtime
from infomediary.settings import Settings
from infomediary.webhooks.delivery import PassReport, deliver_due, new_client

events_app = typer.Typer(help="Business events: webhook deliveries.", no_args_is_help=True)
console = Console()


def _line(report: PassReport) -> str:
    return (
        f"delivered {report.delivered}, retrying {report.retrying}, failed {report.failed}, "
        f"dropped {report.dropped}"
    )


@events_app.command("deliver")
def deliver(
    watch: Annotated[bool, typer.Option("--watch", help="Keep delivering until interrupted.")] = False,
    interval: Annotated[
        float, typer.Option(help="Seconds between passes that found nothing due (with --watch).", min=0.1)
    ] = 2.0,
) -> None:
    """Send every due delivery (signed, consent decided again), then exit; or keep going with --watch."""
    with Runtime.open(Settings()) as runtime:
        try:
            schema.require_head(runtime.engine)
        except DomainError as exc:
            Console(stderr=True).print(f"[bold red]error:[/] {exc.detail}")
            raise typer.Exit(1) from None
        with new_client(runtime.settings) as client:
            try:
                _run(runtime, client, watch=watch, interval=interval)
            except KeyboardInterrupt:
                # A pass interrupted mid-send is safe: its claimed deliveries are retried when the lease ends.
                console.print("stopped")


def _run(runtime: Runtime, client: httpx.Client, *, watch: bool, interval: float) -> None:
    while True:
        report = deliver_due(runtime, client)
        if report.handled or not watch:
            console.print(_line(report))
        if not watch:
            return
        # A full batch means more may be due: go again at once.
        if report.handled < runtime.settings.webhook_delivery_batch:
            time.sleep(interval)
