"""A real uvicorn server on a free port and Debian's Chromium driven by Playwright.

Playwright cannot download its own browsers here, so the system Chromium is used. Without it the browser
tests skip with the reason, except under CI=true, where a missing browser is a failure (`.ci/run` installs
it). Screenshots land in var/screenshots/ (gitignored); the run's summary prints the path.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from api.app import create_app
from infomediary.runtime import Runtime
from tests.conftest import SCREENSHOTS
from tests.fixtures.mail import last_token

CHROMIUM = Path("/usr/bin/chromium")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_server(runtime: Runtime) -> Iterator[str]:
    """The app served by uvicorn on 127.0.0.1 for the length of one test."""
    port = _free_port()
    config = uvicorn.Config(create_app(runtime=runtime), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the uvicorn server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture
def chromium_path() -> Path:
    found = CHROMIUM if CHROMIUM.exists() else None
    if found is None and (which := shutil.which("chromium")):
        found = Path(which)
    if found is None:
        reason = "Debian's chromium is not installed (apt-get install -y chromium chromium-driver)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI must run the browser tests")
        pytest.skip(reason)
    return found


@pytest.fixture
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core from the npm registry (`npm ci --prefix tests/browser`, pinned by its lock file)."""
    if not AXE.exists():
        reason = "axe-core is not installed (npm ci --prefix tests/browser)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI must run the accessibility checks")
        pytest.skip(reason)
    return AXE.read_text()


def sign_up_and_in(page: Any, live_server: str, runtime: Runtime, email: str, password: str) -> None:
    """Sign up in the browser, follow the mailed confirmation link (read from the test's mailbox), confirm,
    and log in: where a new customer is after her first sign-in."""
    page.goto(live_server + "/signup")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Create account").click()
    page.goto(f"{live_server}/verify-email?token={last_token(runtime, email, '/verify-email')}")
    page.get_by_role("button", name="Confirm my address").click()
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
