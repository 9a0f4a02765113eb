"""The relay's SMTP front (aiosmtpd): refuses what it can at RCPT TO, hands each message to `inbound`, or,
for a reply address (`reply_address`), to `replies`.

Thin on purpose: every decision is theirs, run on a worker thread (database and vault work would otherwise
hold the event loop that serves every other connection). One recipient per message, so that
one message is one customer's and one transaction: a client with more is asked to send again for the
rest (452, as RFC 5321 provides), and does.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any, Final

import structlog
from aiosmtpd.controller import Controller

from infomediary.relay import inbound, replies, reply_address
from infomediary.runtime import Runtime

log = structlog.get_logger(__name__)

OK: Final = "250 2.0.0 OK"
UNKNOWN: Final = "550 5.1.1 not accepted"
NOT_ACCEPTED: Final = "550 5.7.1 not accepted"
TRY_LATER: Final = "451 4.3.0 try again later"
LIMITED: Final = "451 4.7.1 sending limit reached, try later"
ONE_RECIPIENT: Final = "452 4.5.3 one recipient per message; send again for the others"
REPLIES: Final = {
    inbound.Verdict.RELAYED: OK,
    inbound.Verdict.UNKNOWN_RECIPIENT: UNKNOWN,
    inbound.Verdict.NOT_ACCEPTED: NOT_ACCEPTED,
    inbound.Verdict.LIMITED: LIMITED,
}


class RelayHandler:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if envelope.rcpt_tos:
            return ONE_RECIPIENT
        loop = asyncio.get_running_loop()
        try:
            if reply_address.is_reply_address(self.runtime.settings, address):
                # Her reply: no sending limit (the suppliers' limit is on what reaches customers).
                accepted = await loop.run_in_executor(None, replies.accepts_recipient, self.runtime, address)
                verdict = inbound.Verdict.RELAYED if accepted else inbound.Verdict.UNKNOWN_RECIPIENT
            else:
                verdict = await loop.run_in_executor(None, inbound.accepts_recipient, self.runtime, address)
        except Exception as exc:
            log.warning("relay.failed", stage="rcpt", error=type(exc).__name__)
            return TRY_LATER
        if verdict is not inbound.Verdict.RELAYED:
            return REPLIES[verdict]
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        if not isinstance(raw, bytes) or len(envelope.rcpt_tos) != 1:
            return TRY_LATER
        loop = asyncio.get_running_loop()
        recipient = envelope.rcpt_tos[0]
        if reply_address.is_reply_address(self.runtime.settings, recipient):
            mail_from = envelope.mail_from if isinstance(envelope.mail_from, str) else ""
            work = partial(replies.reply, self.runtime, recipient=recipient, mail_from=mail_from, raw=raw)
        else:
            work = partial(inbound.relay, self.runtime, recipient=recipient, raw=raw)
        try:
            outcome = await loop.run_in_executor(None, work)
        except Exception as exc:
            # Rolled back whole: nothing kept, logged or sent. The sender tries again later.
            log.warning("relay.failed", stage="data", error=type(exc).__name__)
            return TRY_LATER
        return REPLIES[outcome.verdict]


def controller(runtime: Runtime, *, host: str, port: int) -> Controller:
    """An SMTP server for the relay domain on `host`:`port`, not yet started (`start()`, `stop()`)."""
    return Controller(
        RelayHandler(runtime),
        hostname=host,
        port=port,
        data_size_limit=runtime.settings.relay_max_message_bytes,
        server_hostname=runtime.settings.relay_domain,
        ident="infomediary relay",
    )
