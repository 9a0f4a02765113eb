"""structlog configuration: JSON lines with a request id; never personal data, tokens or secrets."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

# Keys that must never reach a log line, whatever a caller binds by mistake.
REDACTED_KEYS = frozenset(
    {
        "password",
        "current_password",
        "new_password",
        "token",
        "access_token",
        "client_secret",
        "authorization",
        "cookie",
        "email",
        "secret",
    }
)


# Third-party loggers that put secrets in DEBUG records: authlib logs every issued token, access token
# included ("Issue token {...}"). They never go below INFO, whatever the configured level.
SECRET_BEARING_LOGGERS = ("authlib",)


def _redact(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in REDACTED_KEYS.intersection(event):
        event[key] = "[redacted]"
    return event


class _CurrentStderr:
    """Writes to whatever `sys.stderr` is now (a test capture, a redirect), not what it was at start."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(level: str = "INFO", *, json: bool = True) -> None:
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    logging.basicConfig(format="%(message)s", stream=sys.stderr, level=level.upper(), force=True)
    floor = max(logging.INFO, logging.getLevelName(level.upper()))
    for name in SECRET_BEARING_LOGGERS:
        logging.getLogger(name).setLevel(floor)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=_CurrentStderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=True,
    )
