"""Times in the reader's time zone: chosen once (no script needed), kept in this browser, UTC until then."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.pages.conftest import csrf_token, sign_up


def _choose(browser: TestClient, zone: str, back: str = "/profile") -> str:
    page = browser.get(f"/time-zone?back={back}")
    assert page.status_code == 200
    chosen = browser.post(
        "/time-zone",
        data={"zone": zone, "back": back, "csrf_token": csrf_token(page)},
        follow_redirects=False,
    )
    assert chosen.status_code == 303
    return chosen.headers["location"]


def test_times_are_utc_until_a_zone_is_chosen_then_shown_in_it(browser: TestClient) -> None:
    sign_up(browser)
    before = browser.get("/profile")
    assert "Times are shown in UTC" in before.text and " UTC</td>" in before.text
    assert _choose(browser, "Asia/Tokyo") == "/profile"
    after = browser.get("/profile")
    # The registration's change in the history, now in Tokyo time (JST, no daylight saving).
    assert "Times are shown in Asia/Tokyo" in after.text and " JST</td>" in after.text
    assert " UTC</td>" not in after.text


def test_an_unknown_zone_or_cookie_is_utc_and_back_never_leaves_the_site(browser: TestClient) -> None:
    sign_up(browser)
    assert _choose(browser, "Mars/Olympus_Mons") == "/profile"
    assert "Times are shown in UTC" in browser.get("/profile").text
    browser.cookies.set("tz", "../../etc/passwd")
    assert browser.get("/profile").status_code == 200
    assert "Times are shown in UTC" in browser.get("/profile").text
    for outside in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        assert _choose(browser, "Europe/Paris", back=outside) == "/"
