"""`infomediary mail list` and `mail show`: the messages the embedded default kept instead of sending."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from infomediary.mail import spool
from infomediary.settings import Settings

mail_app = typer.Typer(
    help="Mail kept in <data_dir>/mail/ when no SMTP relay is configured.", no_args_is_help=True
)
console = Console()
err = Console(stderr=True)


def _relay_note(settings: Settings) -> None:
    if settings.mail_smtp_host:
        err.print(
            f"mail goes to the relay {settings.mail_smtp_host}:{settings.mail_smtp_port}; "
            "only mail kept before it was configured is here"
        )


@mail_app.command("list")
def list_mail(
    limit: Annotated[int, typer.Option(help="Newest messages to show.", min=1)] = 50,
) -> None:
    """The kept messages, newest first: time, recipient, subject, and the id `mail show` takes."""
    settings = Settings()
    _relay_note(settings)
    kept = spool.listing(settings.resolved_mail_dir, limit=limit)
    if not kept:
        console.print(f"no mail in {settings.resolved_mail_dir}")
        return
    table = Table("time (UTC)")
    # Neither the recipient nor the id cut short (the id is what `mail show` takes): folded, or kept whole.
    table.add_column("to", overflow="fold")
    table.add_column("subject")
    table.add_column("id", no_wrap=True, min_width=len(kept[0].id))
    for item in kept:
        # Text, not markup: a recipient or subject is shown as it is, brackets and all.
        table.add_row(f"{item.at:%Y-%m-%d %H:%M:%S}", Text(item.to), Text(item.subject), item.id)
    console.print(table)


@mail_app.command("show")
def show_mail(message_id: Annotated[str, typer.Argument(help="An id from `mail list`.")]) -> None:
    """One kept message: its headers and text, links included (follow one to confirm an address)."""
    settings = Settings()
    try:
        message = spool.read(settings.resolved_mail_dir, message_id)
    except KeyError:
        err.print(f"[bold red]error:[/] no message {message_id!r} in {settings.resolved_mail_dir}")
        raise typer.Exit(1) from None
    for header in ("Date", "From", "To", "Subject"):
        console.print(f"[bold]{header}:[/] {message[header]}", highlight=False)
    console.print()
    # Plain print, not markup: the text is the message's own, brackets and all.
    console.print(spool.body(message), markup=False, highlight=False, soft_wrap=True)
