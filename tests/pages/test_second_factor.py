"""Two-step sign-in through the pages: set up (the key shown once, on the page that answers the form), the
recovery codes, the log-in's code page, the code asked for again before erasure, and switching it off."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from fastapi.testclient import TestClient

from api.session_cookie import SESSION_COOKIE
from infomediary.customers import service as customers_service
from tests.pages.conftest import PASSWORD, csrf_token, sign_up, submit

_SECRET = re.compile(r'<code class="secret">((?:[A-Z2-7]{4} ){7}[A-Z2-7]{4})</code>')


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def code(self, secret: str) -> str:
        self.now += timedelta(seconds=30)  # each code of its own time step: a code is good once
        return str(pyotp.TOTP(secret).at(self.now))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(customers_service, "utcnow", lambda: clock.now)
    return clock


def test_two_step_sign_in_from_setting_up_to_switching_off(browser: TestClient, clock: Clock) -> None:
    sign_up(browser)
    overview = browser.get("/security")
    assert overview.status_code == 200 and "Set up two-step sign-in" in overview.text

    setup = submit(browser, "/security", "/security/second-factor", {"password": PASSWORD})
    assert setup.status_code == 200
    found = _SECRET.search(setup.text)
    assert found and "otpauth://totp/" in setup.text
    secret = found.group(1).replace(" ", "")
    token = csrf_token(setup)
    wrong = browser.post("/security/second-factor/confirm", data={"code": "000000", "csrf_token": token})
    assert wrong.status_code == 400 and secret in wrong.text  # the key again, to try the next code
    codes_page = browser.post(
        "/security/second-factor/confirm", data={"code": clock.code(secret), "csrf_token": token}
    )
    assert codes_page.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", codes_page.text)
    assert len(codes) == 10
    assert "On" in browser.get("/security").text

    # Erasure asks for a code now.
    assert 'name="code"' in browser.get("/rights/delete").text

    # Logging in: the password, then the code, on a page of its own that sets no cookie until the code.
    browser.cookies.clear()
    step = submit(browser, "/login", "/login", {"email": "ada@example.org", "password": PASSWORD})
    assert step.status_code == 200 and "authenticator app" in step.text
    assert SESSION_COOKIE not in browser.cookies
    challenge = re.search(r'name="challenge" value="([^"]+)"', step.text)
    assert challenge
    form = {"challenge": challenge.group(1), "next": "/", "csrf_token": csrf_token(step)}
    miss = browser.post("/login/code", data={**form, "code": "000000"}, follow_redirects=False)
    assert miss.status_code == 401 and "That code is not right" in miss.text
    hit = browser.post("/login/code", data={**form, "code": codes[0]}, follow_redirects=False)
    assert hit.status_code == 303 and browser.cookies.get(SESSION_COOKIE)

    off = submit(
        browser,
        "/security",
        "/security/second-factor/disable",
        {"password": PASSWORD, "code": clock.code(secret)},
    )
    assert off.headers["location"] == "/security?notice=second-factor-off"
    assert "Set up two-step sign-in" in browser.get("/security").text
