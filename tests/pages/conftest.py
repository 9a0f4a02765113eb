"""Page-test helpers: a browser-like TestClient that reads the CSRF token out of the form it was shown."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.fixtures.mail import last_token

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "correct horse battery staple"


def csrf_token(page: httpx.Response) -> str:
    found = _TOKEN.search(page.text)
    assert found, "the page has no CSRF field"
    return found.group(1)


def submit(client: TestClient, page_path: str, action: str, data: dict[str, str]) -> httpx.Response:
    """Open `page_path`, then post its form to `action` with the token it carried, as a browser would."""
    page = client.get(page_path)
    assert page.status_code == 200, page.text
    return client.post(action, data={**data, "csrf_token": csrf_token(page)}, follow_redirects=False)


def sign_up(client: TestClient, email: str = "ada@example.org") -> httpx.Response:
    """Sign up as a person does: the form, the link in the mail and its button, then the log-in form.
    Returns the log-in's response, the one that set the session cookie."""
    signed = submit(client, "/signup", "/signup", {"email": email, "password": PASSWORD})
    assert signed.status_code == 303 and signed.headers["location"] == "/signup/sent", signed.text
    confirm_address(client, email)
    response = submit(client, "/login", "/login", {"email": email, "password": PASSWORD})
    assert response.status_code == 303, response.text
    return response


def confirm_address(client: TestClient, email: str) -> None:
    """Open the newest confirmation link mailed to `email` and press its button."""
    token = last_token(client.app.state.runtime, email, "/verify-email")  # type: ignore[attr-defined]
    confirmed = submit(client, f"/verify-email?token={token}", "/verify-email", {"token": token})
    assert confirmed.status_code == 303, confirmed.text
    assert confirmed.headers["location"] == "/login?notice=email-verified"


@pytest.fixture
def browser(http: TestClient) -> TestClient:
    http.headers["accept"] = "text/html"
    return http
