"""Standing terms in plain language: saved as a whole, shown as sentences, refused with messages."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.session_cookie import SESSION_COOKIE
from tests.pages.conftest import csrf_token, sign_up


def _terms_api(browser: TestClient) -> list[dict[str, object]]:
    token = browser.cookies.get(SESSION_COOKIE)
    return list(browser.get("/v1/me/terms", headers={"authorization": f"Bearer {token}"}).json()["terms"])


def test_terms_are_saved_and_read_back_in_plain_words(browser: TestClient) -> None:
    sign_up(browser)
    page = browser.get("/terms")
    assert "You have no standing terms" in page.text
    response = browser.post(
        "/terms",
        data={
            "csrf_token": csrf_token(page),
            "never_category": ["health", "religion"],
            "never_purpose": ["sell_data_to_third_parties"],
            "min_price.precise_location": "50",
            "only_unstruck_suppliers": "1",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    kinds = sorted(str(t["kind"]) for t in _terms_api(browser))
    assert kinds == [
        "min_price",
        "never_category",
        "never_category",
        "never_purpose",
        "only_unstruck_suppliers",
    ]
    shown = browser.get("/terms")
    assert "for at least 50 credits" in shown.text and "Never share" in shown.text
    assert shown.text.count("checked") == 4  # health, religion, the purpose, the supplier rule


def test_a_bad_price_is_refused_next_to_it_and_nothing_changes(browser: TestClient) -> None:
    sign_up(browser)
    page = browser.get("/terms")
    response = browser.post(
        "/terms",
        data={"csrf_token": csrf_token(page), "never_category": "health", "min_price.finances": "lots"},
    )
    assert response.status_code == 422
    assert 'id="t-finances-error"' in response.text and "<details open>" in response.text
    assert _terms_api(browser) == []
