"""The privacy-loss page: her account in plain words (period, spent, limit, remaining, by supplier) and the
form that sets her limit, refusing a number out of range with a sentence and without changing anything."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.session_cookie import SESSION_COOKIE
from infomediary.runtime import Runtime
from tests.fixtures.actors import make_supplier
from tests.fixtures.audiences import ACCOUNTED, PROFILE, audience_runtime
from tests.fixtures.consents import publish
from tests.pages.conftest import csrf_token, sign_up

EMPTY = "No supplier has received a statistic that included you this period."


@pytest.fixture
def app(runtime: Runtime) -> Iterator[FastAPI]:
    with audience_runtime(runtime, **ACCOUNTED) as rt:
        yield create_app(runtime=rt)


def _bearer(browser: TestClient) -> dict[str, str]:
    # The page session cookie is also a bearer token for the API: the test reads what the page changed there.
    return {"authorization": f"Bearer {browser.cookies.get(SESSION_COOKIE)}"}


def _account(browser: TestClient) -> dict[str, Any]:
    response = browser.get("/v1/me/privacy-loss", headers=_bearer(browser))
    assert response.status_code == 200, response.text
    return dict(response.json())


def _post(browser: TestClient, data: dict[str, str]) -> Any:
    page = browser.get("/privacy-loss")
    return browser.post(
        "/privacy-loss", data={**data, "csrf_token": csrf_token(page)}, follow_redirects=False
    )


def test_the_page_needs_a_signed_in_customer(browser: TestClient) -> None:
    response = browser.get("/privacy-loss", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


def test_a_new_customer_sees_the_default_limit_and_no_supplier(browser: TestClient) -> None:
    sign_up(browser)
    page = browser.get("/privacy-loss")
    assert page.status_code == 200
    assert "250 epsilon" in page.text and "(the default)" in page.text
    assert "Use the default (250)" in page.text and 'max="1000"' in page.text
    assert EMPTY in page.text and "<table" not in page.text
    assert "<meter" in page.text and "<script" not in page.text
    assert 'href="/privacy-loss" aria-current="page"' in page.text


def test_a_count_that_included_her_is_shown_by_supplier(browser: TestClient, runtime: Runtime) -> None:
    sign_up(browser)
    assert browser.patch("/v1/me/profile", json=PROFILE, headers=_bearer(browser)).status_code == 200
    shop = make_supplier(runtime, name="Velo Paris")
    publish(browser, shop, ["marketing"], ["demographics", "contact", "interests", "purchases"])
    counted = browser.post(
        "/v1/audiences/count",
        json={"purpose": "marketing", "predicate": {"eq": ["gender", "female"]}},
        headers=shop.headers(browser),
    )
    assert counted.status_code == 200 and counted.json()["count"] == 1, counted.text
    page = browser.get("/privacy-loss")
    assert EMPTY not in page.text
    assert '<td data-label="Supplier">Velo Paris</td>' in page.text
    assert '<td data-label="Privacy loss">100</td>' in page.text
    assert '<td data-label="Answers">1</td>' in page.text
    assert "<dt>Remaining</dt><dd>150 epsilon</dd>" in page.text


def test_she_sets_her_limit_and_goes_back_to_the_default(browser: TestClient) -> None:
    sign_up(browser)
    saved = _post(browser, {"action": "set", "cap": "12.5"})
    assert saved.status_code == 303 and saved.headers["location"] == "/privacy-loss?notice=privacy-cap-saved"
    assert _account(browser)["cap"] == 12.5 and _account(browser)["own_cap"]
    page = browser.get(saved.headers["location"])
    assert "Your privacy-loss limit is saved." in page.text
    assert "12.5 epsilon" in page.text and "(your own choice)" in page.text and 'value="12.5"' in page.text
    # The default button works whatever is in the box.
    reset = _post(browser, {"action": "default", "cap": "not a number"})
    assert reset.status_code == 303
    assert _account(browser)["cap"] == 250 and not _account(browser)["own_cap"]


@pytest.mark.parametrize("typed", ["5000", "-1", "lots", "", "nan", "inf"])
def test_a_limit_out_of_range_is_refused_in_plain_words_and_changes_nothing(
    browser: TestClient, typed: str
) -> None:
    sign_up(browser)
    assert _post(browser, {"action": "set", "cap": "40"}).status_code == 303
    refused = _post(browser, {"action": "set", "cap": typed})
    assert refused.status_code == 422
    assert "Enter a number from 0 to 1000, or use the default. Your limit was not changed." in refused.text
    assert 'aria-invalid="true"' in refused.text and f'value="{typed}"' in refused.text
    assert "Input should" not in refused.text and "greater than" not in refused.text  # no pydantic text
    assert _account(browser)["cap"] == 40 and _account(browser)["own_cap"]


def test_a_form_without_its_csrf_token_is_refused(browser: TestClient) -> None:
    sign_up(browser)
    response = browser.post("/privacy-loss", data={"action": "set", "cap": "1"}, follow_redirects=False)
    assert response.status_code == 403
    assert _account(browser)["cap"] == 250 and not _account(browser)["own_cap"]
