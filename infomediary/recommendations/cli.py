"""`infomediary recommend train`: (re)train suppliers' recommenders, with a progress bar per stage.

Run it periodically (cron, a systemd timer): each run retrains from the consented data as it is then, so
a customer who withdrew since the last run contributes nothing to the next model.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import distinct, select

from infomediary import schema
from infomediary.database import unit_of_work
from infomediary.errors import DomainError
from infomediary.products.models import CatalogItemRow
from infomediary.recommendations import training
from infomediary.runtime import Runtime
from infomediary.settings import Settings
from infomediary.suppliers import service as suppliers

recommend_app = typer.Typer(help="Recommenders trained inside the broker.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


@recommend_app.command("train")
def train(
    supplier: Annotated[
        str | None, typer.Option(help="Supplier name or id; default: every supplier with a catalog.")
    ] = None,
) -> None:
    """Train item-to-item, ALS and popularity recommenders on consented activity and purchases."""
    try:
        with Runtime.open(Settings()) as runtime:
            schema.require_head(runtime.engine)
            with unit_of_work(runtime.read_session_factory) as session:
                if supplier is not None:
                    targets = [(found := suppliers.find(session, supplier)).id]
                    names = {found.id: found.name}
                else:
                    targets = list(session.scalars(select(distinct(CatalogItemRow.supplier_id))))
                    names = {v.id: v.name for v in suppliers.list_all(session)}
            reports = [
                _train_one(runtime, supplier_id, names.get(supplier_id, supplier_id))
                for supplier_id in targets
            ]
    except DomainError as exc:
        err.print(f"[bold red]error:[/] {exc.detail}")
        raise typer.Exit(1) from None
    table = Table("supplier", "customers", "interactions", "items", "segments", "seconds")
    for report in reports:
        table.add_row(
            names.get(report.supplier_id, report.supplier_id),
            str(report.customers),
            str(report.interactions),
            str(report.items),
            str(report.segments),
            f"{sum(report.seconds.values()):.2f}",
        )
    console.print(table)


def _train_one(runtime: Runtime, supplier_id: str, name: str) -> training.TrainingReport:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = int(bar.add_task(f"{name}: {stage}", total=total))
            bar.update(tasks[stage], completed=done, total=total)  # type: ignore[arg-type]

        # One transaction per supplier: its decisions, log entries and models commit together.
        with unit_of_work(runtime.session_factory) as session:
            return training.train(session, runtime, supplier_id, progress=progress)
