"""Changing the login address on the contact page: the page says the same whether or not the address is
taken, and the mailed link's page confirms with a button, once."""

from __future__ import annotations

from fastapi.testclient import TestClient

from infomediary.runtime import Runtime
from tests.fixtures.mail import last_token, messages_to, text_of
from tests.pages.conftest import PASSWORD, sign_up, submit


def _log_in(browser: TestClient, email: str) -> int:
    browser.cookies.clear()
    return submit(browser, "/login", "/login", {"email": email, "password": PASSWORD}).status_code


def _change_address(browser: TestClient, email: str) -> str:
    """Save the contact page with a new address; where the page sends her."""
    saved = submit(browser, "/profile/contact", "/profile/contact", {"email": email, "city": "Paris"})
    assert saved.status_code == 303, saved.text
    return saved.headers["location"]


def test_the_contact_page_says_the_same_for_a_taken_address(browser: TestClient, runtime: Runtime) -> None:
    sign_up(browser, "grace@example.org")
    browser.cookies.clear()
    sign_up(browser, "ada@example.org")
    free = _change_address(browser, "ada.new@example.org")
    taken = _change_address(browser, "grace@example.org")
    assert free == taken == "/profile/contact?notice=email-change-mailed"
    page = browser.get(taken).text
    assert "check your mail at the new address" in page and 'value="ada@example.org"' in page
    assert 'value="Paris"' in page  # the rest of the form was saved
    tried = messages_to(runtime, "grace@example.org")[-1]
    assert "Someone tried to use your address" in str(tried["Subject"]) and "token=" not in text_of(tried)
    assert _log_in(browser, "grace@example.org") == 303 and _log_in(browser, "ada@example.org") == 303


def test_the_link_page_confirms_with_its_button_once(browser: TestClient, runtime: Runtime) -> None:
    sign_up(browser)
    _change_address(browser, "ada.new@example.org")
    token = last_token(runtime, "ada.new@example.org", "/change-email")
    browser.cookies.clear()
    page = browser.get("/change-email", params={"token": token})
    assert page.status_code == 200 and "Use this address" in page.text and f'value="{token}"' in page.text
    assert _log_in(browser, "ada.new@example.org") == 401  # opening the link changed nothing

    browser.cookies.clear()
    done = submit(
        browser, f"/change-email?token={token}", "/change-email", {"token": token, "password": PASSWORD}
    )
    assert done.headers["location"] == "/login?notice=email-changed"
    assert "Log in with it from now on" in browser.get(done.headers["location"]).text
    assert _log_in(browser, "ada@example.org") == 401 and _log_in(browser, "ada.new@example.org") == 303
    assert 'value="ada.new@example.org"' in browser.get("/profile/contact").text

    again = browser.get("/change-email", params={"token": token})
    assert again.status_code == 400 and "does not work any more" in again.text
    assert "/profile/contact" in again.text


def test_an_address_taken_meanwhile_is_refused(browser: TestClient, runtime: Runtime) -> None:
    sign_up(browser)
    _change_address(browser, "ada.new@example.org")
    token = last_token(runtime, "ada.new@example.org", "/change-email")
    browser.cookies.clear()
    sign_up(browser, "ada.new@example.org")
    browser.cookies.clear()
    refused = submit(
        browser, f"/change-email?token={token}", "/change-email", {"token": token, "password": PASSWORD}
    )
    assert refused.status_code == 409 and "Another account uses this address now" in refused.text
    assert _log_in(browser, "ada@example.org") == 303


def test_the_link_page_asks_for_her_password(browser: TestClient, runtime: Runtime) -> None:
    sign_up(browser)
    _change_address(browser, "ada.new@example.org")
    token = last_token(runtime, "ada.new@example.org", "/change-email")
    browser.cookies.clear()
    page = browser.get("/change-email", params={"token": token})
    assert 'name="password" type="password"' in page.text
    form = {"token": token, "password": "not my password at all"}
    refused = submit(browser, f"/change-email?token={token}", "/change-email", form)
    assert refused.status_code == 403 and 'id="f-password-error"' in refused.text
    assert _log_in(browser, "ada.new@example.org") == 401 and _log_in(browser, "ada@example.org") == 303
    browser.cookies.clear()
    form = {"token": token, "password": PASSWORD}
    assert submit(browser, f"/change-email?token={token}", "/change-email", form).status_code == 303
    assert _log_in(browser, "ada.new@example.org") == 303
