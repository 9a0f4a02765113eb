"""Signing up, logging in and out through the pages, with the foundation's session cookie."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.session_cookie import SESSION_COOKIE
from infomediary.runtime import Runtime
from tests.fixtures.mail import messages_to
from tests.pages.conftest import PASSWORD, confirm_address, sign_up, submit


def test_sign_up_then_the_mailed_link_then_log_in_shows_the_dashboard(
    browser: TestClient, runtime: Runtime
) -> None:
    signed = submit(browser, "/signup", "/signup", {"email": "ada@example.org", "password": PASSWORD})
    assert signed.status_code == 303 and signed.headers["location"] == "/signup/sent"
    assert SESSION_COOKIE not in browser.cookies  # nobody is signed in before the address is confirmed
    assert "Check your mail" in browser.get("/signup/sent").text
    early = submit(browser, "/login", "/login", {"email": "ada@example.org", "password": PASSWORD})
    assert early.status_code == 403 and "Confirm your email address first" in early.text
    assert "/verify-email/resend" in early.text
    confirm_address(browser, "ada@example.org")
    response = submit(browser, "/login", "/login", {"email": "ada@example.org", "password": PASSWORD})
    assert response.headers["location"] == "/?notice=logged-in"
    assert browser.cookies.get(SESSION_COOKIE)
    page = browser.get("/?notice=logged-in")
    assert "1 of " in page.text  # the email address given at sign-up


def test_the_page_cookie_is_the_api_session(browser: TestClient) -> None:
    sign_up(browser)
    token = browser.cookies.get(SESSION_COOKIE)
    me = browser.get("/v1/me", headers={"authorization": f"Bearer {token}", "accept": "application/json"})
    assert me.status_code == 200


def test_sign_up_shows_validation_messages_next_to_the_fields(browser: TestClient) -> None:
    response = submit(browser, "/signup", "/signup", {"email": "not-an-email", "password": "short"})
    assert response.status_code == 422
    assert 'id="f-email-error"' in response.text and 'id="f-password-error"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert SESSION_COOKIE not in browser.cookies


def test_a_taken_email_gets_the_same_page_and_its_owner_a_mail(browser: TestClient, runtime: Runtime) -> None:
    sign_up(browser)
    browser.cookies.clear()
    taken = submit(browser, "/signup", "/signup", {"email": "ada@example.org", "password": "x" * 12})
    fresh = submit(browser, "/signup", "/signup", {"email": "bob@example.org", "password": "x" * 12})
    assert (taken.status_code, taken.headers["location"]) == (fresh.status_code, fresh.headers["location"])
    assert "Someone tried to register" in str(messages_to(runtime, "ada@example.org")[-1]["Subject"])
    # No second account: the password given the second time does not open the first.
    wrong = submit(browser, "/login", "/login", {"email": "ada@example.org", "password": "x" * 12})
    assert wrong.status_code == 401


def test_log_out_then_log_in_returns_to_the_page_asked_for(browser: TestClient) -> None:
    sign_up(browser)
    dashboard = browser.get("/")
    out = submit(browser, "/", "/logout", {})
    assert out.status_code == 303 and dashboard.status_code == 200
    browser.cookies.delete(SESSION_COOKIE)
    # The revoked cookie no longer opens a page.
    gate = browser.post("/logout", data={}, follow_redirects=False)
    assert gate.status_code in {303, 403}
    wrong = submit(browser, "/login", "/login", {"email": "ada@example.org", "password": "x" * 12})
    assert wrong.status_code == 401 and "do not match" in wrong.text
    good = submit(
        browser, "/login", "/login", {"email": "ada@example.org", "password": PASSWORD, "next": "/profile"}
    )
    assert good.status_code == 303 and good.headers["location"] == "/profile"


def test_a_revoked_session_cookie_sends_the_visitor_to_log_in(browser: TestClient) -> None:
    sign_up(browser)
    token = browser.cookies.get(SESSION_COOKIE)
    submit(browser, "/", "/logout", {})
    browser.cookies.set(SESSION_COOKIE, token)
    response = browser.get("/", follow_redirects=False)
    # The front page is public: a stale cookie shows the welcome page, not someone's data.
    assert response.status_code == 200 and "Create an account" in response.text
