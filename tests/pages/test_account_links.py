"""The pages the account mails lead to, and the forms that ask for those mails: opening a link changes
nothing, its button does; a link works once; a forgotten password is set again from the mailbox."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from api.session_cookie import SESSION_COOKIE
from infomediary.runtime import Runtime
from tests.fixtures.mail import last_token, messages_to
from tests.pages.conftest import PASSWORD, sign_up, submit

NEW_PASSWORD = "a new and rather long passphrase"


def _log_in(browser: TestClient, password: str = PASSWORD) -> int:
    browser.cookies.clear()
    response = submit(browser, "/login", "/login", {"email": "ada@example.org", "password": password})
    return response.status_code


def test_opening_the_link_confirms_nothing_its_button_does_once(
    browser: TestClient, runtime: Runtime
) -> None:
    submit(browser, "/signup", "/signup", {"email": "ada@example.org", "password": PASSWORD})
    token = last_token(runtime, "ada@example.org", "/verify-email")
    page = browser.get("/verify-email", params={"token": token})
    assert page.status_code == 200 and "Confirm my address" in page.text
    assert f'value="{token}"' in page.text  # in the form, for the button to send
    assert _log_in(browser) == 403
    confirmed = submit(browser, f"/verify-email?token={token}", "/verify-email", {"token": token})
    assert confirmed.headers["location"] == "/login?notice=email-verified"
    assert "Your address is confirmed" in browser.get(confirmed.headers["location"]).text
    assert _log_in(browser) == 303
    again = browser.get("/verify-email", params={"token": token})
    assert again.status_code == 400 and "does not work any more" in again.text


def test_a_new_confirmation_link_can_be_asked_for(browser: TestClient, runtime: Runtime) -> None:
    submit(browser, "/signup", "/signup", {"email": "ada@example.org", "password": PASSWORD})
    first = last_token(runtime, "ada@example.org", "/verify-email")
    asked = submit(browser, "/verify-email/resend", "/verify-email/resend", {"email": "ada@example.org"})
    unknown = submit(browser, "/verify-email/resend", "/verify-email/resend", {"email": "bob@example.org"})
    assert (
        asked.headers["location"] == unknown.headers["location"] == "/verify-email/resend?notice=link-resent"
    )
    assert last_token(runtime, "ada@example.org", "/verify-email") != first
    assert messages_to(runtime, "bob@example.org") == []


def test_a_forgotten_password_is_set_again_from_the_mailed_link(
    browser: TestClient, runtime: Runtime
) -> None:
    sign_up(browser)
    asked = submit(browser, "/forgot-password", "/forgot-password", {"email": "ada@example.org"})
    assert asked.headers["location"] == "/forgot-password?notice=reset-requested"
    token = last_token(runtime, "ada@example.org", "/reset-password")
    form = f"/reset-password?token={token}"
    short = submit(browser, form, "/reset-password", {"token": token, "password": "short"})
    assert short.status_code == 422 and 'id="f-password-error"' in short.text
    done = submit(browser, form, "/reset-password", {"token": token, "password": NEW_PASSWORD})
    assert done.headers["location"] == "/login?notice=password-reset"
    assert _log_in(browser) == 401
    assert _log_in(browser, NEW_PASSWORD) == 303
    used = browser.get("/reset-password", params={"token": token})
    assert used.status_code == 400 and "/forgot-password" in used.text


def test_the_forms_say_the_same_whatever_the_address(browser: TestClient) -> None:
    sign_up(browser)
    browser.cookies.clear()
    pages = [
        submit(browser, "/forgot-password", "/forgot-password", {"email": email})
        for email in ("ada@example.org", "nobody@example.org")
    ]
    assert pages[0].headers["location"] == pages[1].headers["location"]
    assert SESSION_COOKIE not in browser.cookies
    assert re.search(r"If an account has that address", browser.get(pages[0].headers["location"]).text)
