"""The profile page: every field by category, sensitive ones marked, corrections with messages next to the
field, and the history."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.session_cookie import SESSION_COOKIE
from infomediary.profiles.fields import FIELDS
from tests.pages.conftest import csrf_token, sign_up


def csrf_token_from(text: str) -> str:
    class _Page:
        pass

    page = _Page()
    page.text = text  # type: ignore[attr-defined]
    return csrf_token(page)  # type: ignore[arg-type]


def test_every_field_is_shown_on_its_categorys_page_with_sensitive_ones_apart(browser: TestClient) -> None:
    sign_up(browser)
    overview = browser.get("/profile")
    assert overview.status_code == 200
    categories = {spec.category for spec in FIELDS.values()}
    sensitive = {spec.category for spec in FIELDS.values() if spec.sensitivity == "sensitive"}
    ordinary_part, sensitive_part = overview.text.split('id="h-sensitive"')
    for category in categories:
        assert f'href="/profile/{category}"' in (sensitive_part if category in sensitive else ordinary_part)
    # Each sensitive category says why it is optional; completeness counts only the everyday fields.
    assert sensitive_part.count("Optional:") == len(sensitive)
    everyday = sum(1 for s in FIELDS.values() if s.sensitivity != "sensitive")
    assert f"of {everyday} everyday fields filled" in overview.text
    for category in categories:
        page = browser.get(f"/profile/{category}")
        assert page.status_code == 200, category
        for key, spec in FIELDS.items():
            assert (f'name="{key}"' in page.text) == (spec.category == category), (category, key)
        if category in sensitive:
            assert "badge sensitive" in page.text and "Optional:" in page.text
    assert 'value="ada@example.org"' in browser.get("/profile/contact").text
    assert browser.get("/profile/no_such_category").status_code == 404
    # Hints are for people, not for developers.
    assert "ISO 3166" not in browser.get("/profile/contact").text


def _save(browser: TestClient, category: str, **values: str | list[str]) -> None:
    page = browser.get(f"/profile/{category}")
    response = browser.post(
        f"/profile/{category}",
        data={**values, "csrf_token": csrf_token_from(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"].startswith(f"/profile/{category}")


def test_saving_each_page_stores_it_leaves_the_others_and_records_the_history(browser: TestClient) -> None:
    sign_up(browser)
    _save(browser, "identity", given_name="Ada")
    _save(browser, "demographics", birth_date="1990-04-01", gender="female")
    _save(browser, "interests", interests="cycling, jazz")
    _save(browser, "preferences", preferred_channels=["email", "post"])
    _save(browser, "life_events", life_events="moved_home 2024-05-01")
    _save(browser, "precise_location", home_location="52.37, 4.89")
    token = browser.cookies.get(SESSION_COOKIE)
    api = browser.get(
        "/v1/me/profile", headers={"authorization": f"Bearer {token}", "accept": "application/json"}
    )
    values = {f["key"]: f["value"] for f in api.json()["fields"]}
    assert values["given_name"] == "Ada"
    assert values["email"] == "ada@example.org"  # another page's field, untouched
    assert values["interests"] == ["cycling", "jazz"]
    assert values["preferred_channels"] == ["email", "post"]
    assert values["life_events"] == [{"kind": "moved_home", "date": "2024-05-01"}]
    assert values["home_location"] == {"latitude": 52.37, "longitude": 4.89}
    shown = browser.get("/profile/interests?notice=profile-saved")
    assert "Your profile is saved" in shown.text and 'value="cycling, jazz"' in shown.text
    overview = browser.get("/profile")
    assert "History of changes" in overview.text and "Given name" in overview.text


def test_invalid_values_are_refused_next_to_their_field_in_plain_words_and_nothing_changes(
    browser: TestClient,
) -> None:
    sign_up(browser)
    page = browser.get("/profile/contact")
    response = browser.post(
        "/profile/contact",
        data={"email": "", "phone": "call me", "city": "Paris", "csrf_token": csrf_token_from(page.text)},
    )
    assert response.status_code == 422
    for key in ("phone", "email"):
        assert f'id="f-{key}-error"' in response.text, key
    assert "cannot be empty" in response.text
    assert "This does not look like a phone number" in response.text
    assert "String should match pattern" not in response.text and "Value error" not in response.text
    # The values typed are kept in the form, and nothing was saved.
    assert 'value="call me"' in response.text
    again = browser.get("/profile/contact")
    assert 'value="Paris"' not in again.text
    born = browser.get("/profile/demographics")
    future = browser.post(
        "/profile/demographics",
        data={"birth_date": "2999-01-01", "csrf_token": csrf_token_from(born.text)},
    )
    assert future.status_code == 422 and "Give a real date in the past" in future.text
