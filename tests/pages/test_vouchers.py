"""The vouchers page: the form that turns credits into a code (shown in a `<code>`), the list of her
vouchers, a refusal in words that changes nothing, and a form sent twice that issues one voucher."""

from __future__ import annotations

import re

import httpx
from fastapi.testclient import TestClient

from api.session_cookie import SESSION_COOKIE
from infomediary.runtime import Runtime
from tests.fixtures.actors import make_supplier, subject_of
from tests.fixtures.vouchers import fund
from tests.pages.conftest import csrf_token, sign_up

CODE = re.compile(r"<code class=\"secret\">(VCH(?:-[0-9A-Z]{4}){7})</code>")
KEY = re.compile(r'name="key" value="([^"]+)"')


def _bearer(browser: TestClient) -> dict[str, str]:
    return {"authorization": f"Bearer {browser.cookies.get(SESSION_COOKIE)}"}


def _balance(browser: TestClient) -> int:
    return int(browser.get("/v1/me/rewards", headers=_bearer(browser)).json()["balance"])


def _code(response: httpx.Response) -> str:
    found = CODE.search(response.text)
    assert found, response.text
    return found.group(1)


def _issue(
    browser: TestClient, supplier_id: str, value: str, *, page: httpx.Response | None = None
) -> httpx.Response:
    page = page or browser.get("/vouchers")
    key = KEY.search(page.text)
    assert key, "the form carries its idempotency key"
    data = {"supplier_id": supplier_id, "value": value, "days": "7", "key": key.group(1)}
    return browser.post("/vouchers", data={**data, "csrf_token": csrf_token(page)}, follow_redirects=False)


def test_the_page_needs_a_signed_in_customer(browser: TestClient) -> None:
    response = browser.get("/vouchers", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")


def test_credits_become_a_voucher_whose_code_is_shown(browser: TestClient, runtime: Runtime) -> None:
    shop = make_supplier(runtime, name="Corner Bakery")
    sign_up(browser)
    fund(runtime, subject_of(browser, _bearer(browser)), 40)
    page = browser.get("/vouchers")
    assert page.status_code == 200
    assert "<strong>40</strong> credits" in page.text and "Corner Bakery" in page.text
    assert 'aria-current="page"' in page.text and "You have no vouchers yet." in page.text

    issued = _issue(browser, shop.owner_id, "15", page=page)
    assert issued.status_code == 200, issued.text
    code = _code(issued)
    assert "15 credits for Corner Bakery" in issued.text
    assert _balance(browser) == 25

    listed = browser.get("/vouchers")
    assert code in listed.text and "Can be spent" in listed.text


def test_the_same_form_sent_twice_issues_one_voucher(browser: TestClient, runtime: Runtime) -> None:
    shop = make_supplier(runtime)
    sign_up(browser)
    fund(runtime, subject_of(browser, _bearer(browser)), 40)
    page = browser.get("/vouchers")
    first = _issue(browser, shop.owner_id, "10", page=page)
    second = _issue(browser, shop.owner_id, "10", page=page)
    assert _code(first) == _code(second)
    assert _balance(browser) == 30


def test_a_refusal_is_told_in_words_and_changes_nothing(browser: TestClient, runtime: Runtime) -> None:
    shop = make_supplier(runtime)
    sign_up(browser)
    fund(runtime, subject_of(browser, _bearer(browser)), 5)
    too_much = _issue(browser, shop.owner_id, "6")
    assert too_much.status_code == 422
    assert "Nothing was charged" in too_much.text and 'role="alert"' in too_much.text
    not_a_number = _issue(browser, shop.owner_id, "lots")
    assert not_a_number.status_code == 422 and "Enter a whole number of credits" in not_a_number.text
    assert 'value="lots"' in not_a_number.text
    assert _balance(browser) == 5
    assert "You have no vouchers yet." in browser.get("/vouchers").text
