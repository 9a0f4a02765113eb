"""The mail tests read what the service logged through the captured output (`logged`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from infomediary.logs import configure_logging

Logged = Callable[[], tuple[list[dict[str, Any]], str]]


@pytest.fixture
def logged(capfd: pytest.CaptureFixture[str]) -> Logged:
    """What the service logs from here on, as (JSON lines, the whole text). Read through the captured
    output, not structlog's capture: the service's loggers are cached on first use (`infomediary.logs`)."""
    configure_logging("INFO", json=True)
    capfd.readouterr()

    def read() -> tuple[list[dict[str, Any]], str]:
        captured = capfd.readouterr()
        text = captured.out + captured.err
        lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
        return lines, text

    return read
