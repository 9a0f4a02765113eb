"""How a message leaves: to an SMTP relay (STARTTLS, authentication), or, with no relay configured, into the
embedded default's mailbox directory (`spool`).

Sending is apart from content (`message`) and from when to send (`at_commit`): a transport takes a finished
message and delivers it. A failure is logged and never raised to whoever asked: mail is sent after the
transaction committed, and the request it belongs to has already succeeded. What the log says of a message
is its kind, its Message-ID and the error's class and SMTP code: never an address, a subject or the
relay's reply text (a refused recipient's reply quotes the address).
"""

from __future__ import annotations

import smtplib
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

import structlog

from infomediary.mail import spool
from infomediary.mail.message import Mail
from infomediary.settings import Settings

log = structlog.get_logger(__name__)

# Attempts per message on a transient failure (a 4xx reply, a dropped or refused connection), a few seconds
# apart. No outbox table with retries over hours, as webhooks have: a stored message would hold a
# customer's address and a live token in the database. A customer whose link never came asks for another.
ATTEMPTS = 3
BACKOFF_SECONDS = (1.0, 4.0)


class Transport(Protocol):
    def deliver(self, mail: Mail) -> None:
        """Hand the message over; never raises for a failure to send (it is logged)."""
        ...

    def close(self) -> None:
        """Finish what was handed over (the command line waits for it before exiting)."""
        ...

    def forget(self, address: str) -> int:
        """Delete the copies kept here of messages to `address` (its owner was erased); how many."""
        ...


class SmtpTransport:
    """Messages to the configured relay, each on a connection of its own, from a small pool of threads:
    the relay's round trips and its timeout never hold a request, nor the event loop it runs on."""

    def __init__(self, settings: Settings) -> None:
        if settings.mail_smtp_host is None:
            raise ValueError("an SMTP transport needs INFOMEDIARY_MAIL_SMTP_HOST")
        self.host = settings.mail_smtp_host
        self.port = settings.mail_smtp_port
        self.starttls = settings.mail_smtp_starttls
        self.ca_file = settings.mail_smtp_ca_file
        self.username = settings.mail_smtp_username
        self._password = settings.mail_smtp_password
        self.timeout = settings.mail_timeout_seconds
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def deliver(self, mail: Mail) -> None:
        self._executor().submit(self._send_logged, mail)

    def close(self) -> None:
        """Wait for every message handed over; a later `deliver` starts a new pool."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    def send(self, mail: Mail) -> None:
        """Send now, on this thread; raises what smtplib raises."""
        context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            smtp.ehlo()
            if self.starttls:
                smtp.starttls(context=context)
                smtp.ehlo()
            if self.username is not None:
                password = self._password.get_secret_value() if self._password is not None else ""
                smtp.login(self.username, password)
            smtp.send_message(mail.message)

    def forget(self, address: str) -> int:
        """Nothing is kept here: what was sent is in the recipient's mailbox, not ours."""
        return 0

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="mail")
            return self._pool

    def _send_logged(self, mail: Mail) -> bool:
        message_id = str(mail.message["Message-ID"] or "")
        for attempt in range(1, ATTEMPTS + 1):
            try:
                self.send(mail)
            except (smtplib.SMTPException, OSError) as exc:
                if attempt == ATTEMPTS or not transient(exc):
                    log.warning(
                        "mail.not_sent",
                        kind=mail.kind,
                        message_id=message_id,
                        attempts=attempt,
                        error=type(exc).__name__,
                        smtp_code=smtp_code(exc),
                    )
                    return False
                time.sleep(BACKOFF_SECONDS[min(attempt, len(BACKOFF_SECONDS)) - 1])
            else:
                log.info("mail.sent", kind=mail.kind, message_id=message_id, attempts=attempt)
                return True
        return False


def smtp_code(exc: BaseException) -> int | None:
    if isinstance(exc, smtplib.SMTPResponseException):
        return int(exc.smtp_code)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return int(max(codes)) if codes else None
    return None


def transient(exc: BaseException) -> bool:
    """Whether the same message may go through if sent again shortly: a 4xx reply, a connection that
    failed or dropped. A 5xx reply, a certificate the relay's name does not match and a refused login
    will fail the same way again."""
    if isinstance(exc, ssl.SSLError | ssl.CertificateError | smtplib.SMTPAuthenticationError):
        return False
    code = smtp_code(exc)
    if code is not None:
        return 400 <= code < 500
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return False  # no STARTTLS or AUTH offered: a configuration to fix, not a moment to wait out
    return isinstance(exc, smtplib.SMTPServerDisconnected | OSError)


class SpoolTransport:
    """Messages kept as files in a directory (the embedded default's `<data_dir>/mail/`)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def deliver(self, mail: Mail) -> None:
        # On the caller's thread: one small file, and `mail list` shows it as soon as the request returns.
        try:
            kept = spool.write(self.directory, mail.message)
        except OSError as exc:
            log.warning("mail.not_kept", kind=mail.kind, error=type(exc).__name__)
            return
        log.info("mail.kept", kind=mail.kind, mail_id=kept)

    def close(self) -> None:
        """Nothing in flight: every message was written when handed over."""

    def forget(self, address: str) -> int:
        return spool.forget(self.directory, address)


def transport_for(settings: Settings) -> Transport:
    if settings.mail_smtp_host:
        return SmtpTransport(settings)
    return SpoolTransport(settings.resolved_mail_dir)
