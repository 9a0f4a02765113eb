"""`infomediary relay serve` (the SMTP server for the relay domain) and `relay dkim-record`."""

from __future__ import annotations

import threading
from typing import Annotated

import typer
from rich.console import Console

from infomediary import schema
from infomediary.relay import dkim_signing, server
from infomediary.runtime import Runtime
from infomediary.settings import Settings

relay_app = typer.Typer(help="The anonymous mail relay for the relay domain.", no_args_is_help=True)
console = Console()


@relay_app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (default: relay_host).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind (default: relay_port).")] = None,
) -> None:
    """Accept mail to relay addresses over SMTP until interrupted."""
    settings = Settings()
    with Runtime.open(settings) as runtime:
        schema.require_head(runtime.engine)
        runtime.keys.relay_dkim_pem()  # made now, not on the first message
        smtp = server.controller(runtime, host=host or settings.relay_host, port=port or settings.relay_port)
        smtp.start()
        console.print(
            f"relaying mail for [bold]{settings.relay_domain}[/] on "
            f"{host or settings.relay_host}:{port or settings.relay_port}"
        )
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            smtp.stop()
            runtime.mail.close()


@relay_app.command("dkim-record")
def dkim_record() -> None:
    """The DNS TXT record to publish for the relay's DKIM key (made if there is none yet)."""
    settings = Settings()
    with Runtime.open(settings) as runtime:
        console.print(f"{dkim_signing.dns_name(settings)}. IN TXT", highlight=False)
        console.print(f'"{dkim_signing.dns_record(runtime.keys)}"', highlight=False, soft_wrap=True)
