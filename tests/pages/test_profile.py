"""The profile page: every field by category, sensitive ones marked, corrections with messages next to the
field, and the history."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.session_cookie import SESSION_COOKIE
from infomediary.profiles.fields import FIELDS
from tests.pages.conftest import csrf_token, sign_up


def _form(page_text: str, **values: str | list[str]) -> dict[str, str | list[str]]:
    return {"email": "ada@example.org", **values, "csrf_token": csrf_token_from(page_text)}


def csrf_token_from(text: str) -> str:
    class _Page:
        pass

    page = _Page()
    page.text = text  # type: ignore[attr-defined]
    return csrf_token(page)  # type: ignore[arg-type]


def test_every_field_is_shown_by_category_with_sensitive_ones_marked(browser: TestClient) -> None:
    sign_up(browser)
    page = browser.get("/profile")
    assert page.status_code == 200
    for key, spec in FIELDS.items():
        assert f'name="{key}"' in page.text, key
        assert spec.label.replace("'", "&#39;") in page.text, key
    assert page.text.count("badge sensitive") >= sum(
        1 for s in FIELDS.values() if s.sensitivity == "sensitive"
    )
    assert 'value="ada@example.org"' in page.text


def test_saving_the_profile_stores_it_and_records_the_history(browser: TestClient) -> None:
    sign_up(browser)
    page = browser.get("/profile")
    response = browser.post(
        "/profile",
        data=_form(
            page.text,
            given_name="Ada",
            birth_date="1990-04-01",
            interests="cycling, jazz",
            preferred_channels=["email", "post"],
            gender="female",
            life_events="moved_home 2024-05-01",
            home_location="52.37, 4.89",
        ),
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    token = browser.cookies.get(SESSION_COOKIE)
    api = browser.get(
        "/v1/me/profile", headers={"authorization": f"Bearer {token}", "accept": "application/json"}
    )
    values = {f["key"]: f["value"] for f in api.json()["fields"]}
    assert values["given_name"] == "Ada"
    assert values["interests"] == ["cycling", "jazz"]
    assert values["preferred_channels"] == ["email", "post"]
    assert values["life_events"] == [{"kind": "moved_home", "date": "2024-05-01"}]
    assert values["home_location"] == {"latitude": 52.37, "longitude": 4.89}
    shown = browser.get("/profile?notice=profile-saved")
    assert "Your profile is saved" in shown.text
    assert "History of changes" in shown.text and "Given name" in shown.text
    assert 'value="cycling, jazz"' in shown.text


def test_invalid_values_are_refused_next_to_their_field_and_nothing_changes(browser: TestClient) -> None:
    sign_up(browser)
    page = browser.get("/profile")
    response = browser.post(
        "/profile",
        data=_form(page.text, given_name="Ada", birth_date="2999-01-01", phone="call me", email=""),
    )
    assert response.status_code == 422
    for key in ("birth_date", "phone", "email"):
        assert f'id="f-{key}-error"' in response.text, key
    assert "cannot be empty" in response.text
    # The values typed are kept in the form, and nothing was saved.
    assert 'value="call me"' in response.text
    again = browser.get("/profile")
    assert 'value="Ada"' not in again.text
