"""Who used my data, export, restriction and erasure through the pages."""

from __future__ import annotations

import json

import rfc8785
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from api.session_cookie import SESSION_COOKIE
from infomediary.policylog.models import PolicyLogEntry
from infomediary.runtime import Runtime
from tests.fixtures.actors import make_supplier
from tests.fixtures.consents import publish
from tests.fixtures.policylog import sign_head
from tests.pages.conftest import PASSWORD, csrf_token, sign_up


def test_the_log_shows_plain_words_with_verified_proofs(browser: TestClient, runtime: Runtime) -> None:
    supplier = make_supplier(runtime, name="Acme Books")
    publish(browser, supplier, ["marketing"], ["interests"])
    sign_up(browser)
    page = browser.get("/consents")
    data = {"supplier_id": supplier.owner_id, "purpose": "marketing", "category": "interests"}
    browser.post("/consents", data={**data, "decision": "grant", "csrf_token": csrf_token(page)})
    sign_head(runtime)
    log = browser.get("/log")
    assert log.status_code == 200
    assert "Acme Books" in log.text
    assert "proof verified against the signed log" in log.text
    assert "not yet in a signed tree head" not in log.text


def test_a_tampered_entry_loses_its_mark(browser: TestClient, runtime: Runtime) -> None:
    sign_up(browser)
    sign_head(runtime)
    assert "proof verified against the signed log" in browser.get("/log").text
    # Rewrite history: the entry still reads, but it is not the one the signed tree head commits to.
    with runtime.engine.begin() as conn:
        for leaf, raw in conn.execute(select(PolicyLogEntry.leaf_index, PolicyLogEntry.entry)).all():
            forged = {**json.loads(raw), "at": "2001-01-01T00:00:00Z"}
            conn.execute(
                update(PolicyLogEntry)
                .where(PolicyLogEntry.leaf_index == leaf)
                .values(entry=rfc8785.dumps(forged))
            )
    assert "proof verified against the signed log" not in browser.get("/log").text


def test_export_downloads_everything(browser: TestClient) -> None:
    sign_up(browser)
    # The page names the format and links its published schema.
    page = browser.get("/rights").text
    assert "infomediary.export/v2" in page and 'href="/v1/schemas/export-v2.json"' in page
    response = browser.get("/rights/export")
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    document = json.loads(response.content)
    assert document["format"] == "infomediary.export/v2"
    assert "ada@example.org" in json.dumps(document)
    assert browser.get("/v1/schemas/export-v2.json").status_code == 200


def test_the_restriction_switch(browser: TestClient) -> None:
    sign_up(browser)
    bearer = {"authorization": f"Bearer {browser.cookies.get(SESSION_COOKIE)}"}
    page = browser.get("/rights")
    on = browser.post(
        "/rights/restriction",
        data={"action": "restrict", "csrf_token": csrf_token(page)},
        follow_redirects=False,
    )
    assert on.headers["location"] == "/rights?notice=restricted"
    assert browser.get("/v1/me/restriction", headers=bearer).json()["restricted"] is True
    assert "Processing is restricted" in browser.get("/").text
    off = browser.post("/rights/restriction", data={"action": "lift", "csrf_token": csrf_token(page)})
    assert off.status_code == 200
    assert browser.get("/v1/me/restriction", headers=bearer).json()["restricted"] is False


def test_delete_needs_the_confirmation_and_the_password_then_shows_the_receipt(browser: TestClient) -> None:
    sign_up(browser)
    token = browser.cookies.get(SESSION_COOKIE)
    page = browser.get("/rights/delete")
    assert 'name="password" type="password"' in page.text
    unconfirmed = browser.post("/rights/delete", data={"password": PASSWORD, "csrf_token": csrf_token(page)})
    assert unconfirmed.status_code == 422 and 'id="f-confirm-error"' in unconfirmed.text
    assert browser.get("/v1/me", headers={"authorization": f"Bearer {token}"}).status_code == 200
    # A session alone (a stolen cookie, a shared computer) cannot erase: the password is asked again.
    for password, message in (("", "Enter your current password"), ("not my password", "not your current")):
        refused = browser.post(
            "/rights/delete", data={"confirm": "yes", "password": password, "csrf_token": csrf_token(page)}
        )
        assert refused.status_code == 403 and 'id="f-password-error"' in refused.text
        assert message in refused.text and "Your erasure receipt" not in refused.text
        assert 'value="yes" checked' in refused.text or password == ""
        assert browser.get("/v1/me", headers={"authorization": f"Bearer {token}"}).status_code == 200
    assert browser.get("/profile").status_code == 200
    erased = browser.post(
        "/rights/delete", data={"confirm": "yes", "password": PASSWORD, "csrf_token": csrf_token(page)}
    )
    assert erased.status_code == 200 and "Your erasure receipt" in erased.text
    assert erased.text.count("eyJ") >= 1  # the compact JWS
    assert browser.get("/v1/me", headers={"authorization": f"Bearer {token}"}).status_code == 401
    assert browser.get("/profile", follow_redirects=False).status_code == 303


def test_wrong_passwords_on_the_delete_page_hit_the_login_throttle(
    browser: TestClient, runtime: Runtime
) -> None:
    sign_up(browser)
    token = browser.cookies.get(SESSION_COOKIE)
    page = browser.get("/rights/delete")
    data = {"confirm": "yes", "csrf_token": csrf_token(page)}
    for _ in range(runtime.settings.login_max_failures_per_account):
        assert browser.post("/rights/delete", data={**data, "password": "guess"}).status_code == 403
    blocked = browser.post("/rights/delete", data={**data, "password": PASSWORD})
    assert blocked.status_code == 429 and "Too many wrong passwords" in blocked.text
    assert browser.get("/v1/me", headers={"authorization": f"Bearer {token}"}).status_code == 200


def test_the_log_page_lists_who_knows_her_by_which_name(browser: TestClient, runtime: Runtime) -> None:
    known, unknown = make_supplier(runtime, name="Acme Books"), make_supplier(runtime, name="Bikes Ltd")
    sign_up(browser)
    bearer = {"authorization": f"Bearer {browser.cookies.get(SESSION_COOKIE)}"}
    assert "Who knows you" not in browser.get("/log").text  # nobody yet: no empty table
    handed = browser.post("/v1/me/pseudonyms", json={"supplier_id": known.owner_id}, headers=bearer)
    assert handed.status_code == 201, handed.text
    page = browser.get("/log")
    assert "Who knows you" in page.text
    assert "Acme Books" in page.text and handed.json()["pseudonym"] in page.text
    assert "Bikes Ltd" not in page.text
    assert unknown.owner_id not in page.text
