"""The inbox page: requests accepted or refused, offers read, accepted (identity only after a confirmation
page), dismissed or reported; and none of it reachable by another consumer."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi.testclient import TestClient

from api.session_cookie import SESSION_COOKIE
from infomediary.runtime import Runtime
from tests.fixtures.actors import Client, make_supplier
from tests.fixtures.audiences import PROFILE
from tests.fixtures.consents import later, publish
from tests.fixtures.offers import post_offer_to_few
from tests.pages.conftest import PASSWORD, csrf_token, sign_up

CATEGORIES = ["identity", "contact", "demographics", "interests", "health"]


def _bearer(browser: TestClient) -> dict[str, str]:
    return {"authorization": f"Bearer {browser.cookies.get(SESSION_COOKIE)}"}


def _customer_with_profile(browser: TestClient, email: str) -> None:
    sign_up(browser, email)
    changes = {**PROFILE, "given_name": "Zelda", "family_name": "Quist"}
    assert browser.patch("/v1/me/profile", json=changes, headers=_bearer(browser)).status_code == 200


def _offer(browser: TestClient, runtime: Runtime, supplier: Client, **extra: Any) -> dict[str, Any]:
    body = {
        "content": "Spring sale on city bikes",
        "purpose": "marketing",
        "predicate": {"eq": ["gender", "female"]},
        "reward_per_view": 2,
        "reward_per_acceptance": 10,
        "budget_cap": 1000,
        "expires_at": later(),
        **extra,
    }
    headers = {**supplier.headers(browser), "Idempotency-Key": secrets.token_hex(8)}
    response = post_offer_to_few(runtime, body, headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _post(browser: TestClient, action: str, **data: str) -> Any:
    token = csrf_token(browser.get("/inbox"))
    return browser.post(action, data={**data, "csrf_token": token}, follow_redirects=False)


def test_identity_is_released_only_after_the_confirmation_page(browser: TestClient, runtime: Runtime) -> None:
    supplier = make_supplier(runtime, name="Bikes Ltd")
    publish(browser, supplier, ["marketing"], CATEGORIES)
    _customer_with_profile(browser, "zelda@example.org")
    sent = _offer(browser, runtime, supplier, releases_identity=True)
    page = browser.get("/inbox")
    assert "Bikes Ltd" in page.text and "Accepting tells Bikes Ltd who you are" in page.text
    assert _post(browser, f"/inbox/offers/{sent['id']}/view").status_code == 303
    assert "Spring sale on city bikes" in browser.get("/inbox").text
    confirm = _post(browser, f"/inbox/offers/{sent['id']}/accept")
    assert confirm.status_code == 200 and "Tell Bikes Ltd who you are?" in confirm.text
    assert 'name="confirm" value="yes"' in confirm.text
    assert 'name="password" type="password"' in confirm.text
    read = browser.get(f"/v1/offers/{sent['id']}", headers=supplier.headers(browser))
    assert read.json()["released_identities"] == []
    # Confirming needs the password again: without it, or with a wrong one, nothing is released.
    for password in ("", "not my password"):
        refused = browser.post(
            f"/inbox/offers/{sent['id']}/accept",
            data={"confirm": "yes", "password": password, "csrf_token": csrf_token(confirm)},
            follow_redirects=False,
        )
        assert refused.status_code == 403 and 'id="f-password-error"' in refused.text
        assert "Tell Bikes Ltd who you are?" in refused.text
        read = browser.get(f"/v1/offers/{sent['id']}", headers=supplier.headers(browser))
        assert read.json()["released_identities"] == [] and "Zelda" not in read.text
        assert browser.get("/v1/me/rewards", headers=_bearer(browser)).json()["balance"] == 2
    done = browser.post(
        f"/inbox/offers/{sent['id']}/accept",
        data={"confirm": "yes", "password": PASSWORD, "csrf_token": csrf_token(confirm)},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/inbox?notice=offer-accepted"
    read = browser.get(f"/v1/offers/{sent['id']}", headers=supplier.headers(browser))
    assert "Zelda" in read.text
    rewards = browser.get("/v1/me/rewards", headers=_bearer(browser)).json()
    assert rewards["balance"] == 12
    assert "<strong>12</strong> credits" in browser.get("/").text


def test_offers_can_be_dismissed_or_reported(browser: TestClient, runtime: Runtime) -> None:
    supplier = make_supplier(runtime)
    publish(browser, supplier, ["marketing"], CATEGORIES)
    _customer_with_profile(browser, "zelda@example.org")
    first, second = (
        _offer(browser, runtime, supplier),
        _offer(browser, runtime, supplier, content="Another one"),
    )
    assert (
        _post(browser, f"/inbox/offers/{first['id']}/dismiss").headers["location"].endswith("offer-dismissed")
    )
    assert (
        _post(browser, f"/inbox/offers/{second['id']}/report").headers["location"].endswith("offer-reported")
    )
    status = browser.get("/v1/supplier", headers=supplier.headers(browser)).json()
    # One report is not a strike (a handful of customers cannot sanction a supplier), but it is recorded and
    # the reported offer leaves the inbox.
    assert status["strikes"] == 0 and "No offer for you right now" in browser.get("/inbox").text


def test_a_request_is_accepted_or_refused_from_the_inbox(browser: TestClient, runtime: Runtime) -> None:
    supplier = make_supplier(runtime, name="Health Co")
    publish(browser, supplier, ["marketing"], CATEGORIES)
    _customer_with_profile(browser, "zelda@example.org")
    pseudonym = browser.post(
        "/v1/me/pseudonyms", json={"supplier_id": supplier.owner_id}, headers=_bearer(browser)
    ).json()["pseudonym"]
    ids = []
    for _ in range(2):
        body = {
            "pseudonym": pseudonym,
            "purpose": "marketing",
            "categories": ["health"],
            "expires_at": later(),
        }
        created = browser.post("/v1/requests", json=body, headers=supplier.headers(browser, "requests:write"))
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    page = browser.get("/inbox")
    assert "Health Co asks to use" in page.text
    assert _post(browser, f"/inbox/requests/{ids[0]}/accept").headers["location"].endswith("request-accepted")
    assert _post(browser, f"/inbox/requests/{ids[1]}/refuse").headers["location"].endswith("request-refused")
    statuses = [
        browser.get(f"/v1/requests/{i}", headers=supplier.headers(browser)).json()["status"] for i in ids
    ]
    assert statuses == ["accepted", "refused"]


def test_another_consumers_inbox_items_are_not_found(browser: TestClient, runtime: Runtime) -> None:
    supplier = make_supplier(runtime)
    publish(browser, supplier, ["marketing"], CATEGORIES)
    _customer_with_profile(browser, "victim@example.org")
    sent = _offer(browser, runtime, supplier)
    browser.cookies.clear()
    sign_up(browser, "mallory@example.org")
    for action in ("view", "accept", "dismiss", "report"):
        response = _post(browser, f"/inbox/offers/{sent['id']}/{action}", confirm="yes")
        assert response.status_code == 404, action
        assert response.headers["content-type"].startswith("text/html")
    assert _post(browser, "/inbox/requests/req_nope/accept").status_code == 404


def test_a_request_to_release_identity_is_granted_only_with_the_password(
    browser: TestClient, runtime: Runtime
) -> None:
    supplier = make_supplier(runtime, name="Bikes Ltd")
    publish(browser, supplier, ["marketing"], CATEGORIES)
    _customer_with_profile(browser, "yara@example.org")
    handed = browser.post(
        "/v1/me/pseudonyms", json={"supplier_id": supplier.owner_id}, headers=_bearer(browser)
    )
    asked = browser.post(
        "/v1/requests",
        json={
            "pseudonym": handed.json()["pseudonym"],
            "purpose": "marketing",
            "categories": ["identity", "contact"],
            "release_kind": "identity_release",
            "expires_at": later(),
        },
        headers=supplier.headers(browser),
    )
    assert asked.status_code == 201, asked.text
    action = f"/inbox/requests/{asked.json()['id']}/accept"
    confirm = _post(browser, action)
    assert confirm.status_code == 200 and "Tell Bikes Ltd who you are?" in confirm.text
    assert 'name="password" type="password"' in confirm.text
    status = f"/v1/requests/{asked.json()['id']}"
    for password in ("", "not my password"):
        refused = browser.post(
            action,
            data={"confirm": "yes", "password": password, "csrf_token": csrf_token(confirm)},
            follow_redirects=False,
        )
        assert refused.status_code == 403 and 'id="f-password-error"' in refused.text
        assert browser.get(status, headers=supplier.headers(browser)).json()["status"] == "pending"
    done = browser.post(
        action,
        data={"confirm": "yes", "password": PASSWORD, "csrf_token": csrf_token(confirm)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert browser.get(status, headers=supplier.headers(browser)).json()["status"] == "accepted"
