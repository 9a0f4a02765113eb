"""The consents page: grant, refuse, withdraw one, withdraw everything, receipts, and the supplier's policy in
plain words next to its consents."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from api.session_cookie import SESSION_COOKIE
from infomediary.runtime import Runtime
from tests.fixtures.actors import make_supplier
from tests.fixtures.consents import publish
from tests.pages.conftest import csrf_token, sign_up


def _consents_api(browser: TestClient) -> list[dict[str, object]]:
    token = browser.cookies.get(SESSION_COOKIE)
    response = browser.get("/v1/me/consents", headers={"authorization": f"Bearer {token}", "accept": "*/*"})
    return list(response.json()["items"])


def _grant(browser: TestClient, supplier_id: str, **fields: str) -> object:
    page = browser.get("/consents")
    data = {"supplier_id": supplier_id, "purpose": "marketing", "category": "interests", "decision": "grant"}
    return browser.post(
        "/consents", data={**data, **fields, "csrf_token": csrf_token(page)}, follow_redirects=False
    )


def test_the_policy_is_in_plain_words_next_to_the_consents(browser: TestClient, runtime: Runtime) -> None:
    supplier = make_supplier(runtime, name="Acme Books")
    publish(browser, supplier, ["marketing", "personalisation"], ["interests", "health"])
    sign_up(browser)
    page = browser.get("/consents")
    assert "Acme Books" in page.text and "Its privacy policy, in plain words" in page.text
    assert "Marketing" in page.text and "badge sensitive" in page.text
    assert "marketing" not in re.sub(r'value="[^"]*"|id="[^"]*"|for="[^"]*"', "", page.text).split("<main")[1]


def test_grant_then_withdraw_with_receipts(browser: TestClient, runtime: Runtime) -> None:
    supplier = make_supplier(runtime, name="Acme Books")
    publish(browser, supplier, ["marketing"], ["interests"])
    sign_up(browser)
    granted = _grant(browser, supplier.owner_id, expires_on="2999-01-01", price="5")
    assert granted.status_code == 303 and granted.headers["location"] == "/consents?notice=consent-granted"
    [consent] = _consents_api(browser)
    assert consent["state"] == "given" and consent["price"] == 5
    page = browser.get("/consents")
    assert "Consent given" not in page.text  # no notice without the key
    assert f'action="/consents/{consent["id"]}/withdraw"' in page.text
    # The receipt is a page saying what was agreed and that the signature checked out; the JWS a download.
    shown = browser.get(f"/consents/{consent['id']}/receipt")
    assert shown.status_code == 200 and shown.headers["content-type"].startswith("text/html")
    assert "The signature checks out" in shown.text
    assert "Acme Books" in shown.text and "Your interests" in shown.text
    receipt = browser.get(f"/consents/{consent['id']}/receipt.jws")
    assert receipt.status_code == 200 and receipt.headers["content-type"] == "application/jose"
    assert "attachment" in receipt.headers["content-disposition"]
    assert receipt.text.count(".") == 2  # a compact JWS
    withdrawn = browser.post(
        f"/consents/{consent['id']}/withdraw", data={"csrf_token": csrf_token(page)}, follow_redirects=False
    )
    assert withdrawn.status_code == 303
    assert _consents_api(browser)[0]["state"] == "withdrawn"


def test_refuse_and_withdraw_everything(browser: TestClient, runtime: Runtime) -> None:
    supplier = make_supplier(runtime)
    publish(browser, supplier, ["marketing", "personalisation"], ["interests"])
    sign_up(browser)
    assert _grant(browser, supplier.owner_id).status_code == 303
    assert _grant(browser, "*", purpose="personalisation", category="*").status_code == 303
    refused = _grant(browser, supplier.owner_id, purpose="personalisation", decision="refuse")
    assert refused.headers["location"] == "/consents?notice=consent-refused"
    page = browser.get("/consents")
    assert "2 consents in force" in page.text
    done = browser.post(
        "/consents/withdraw-all", data={"csrf_token": csrf_token(page)}, follow_redirects=False
    )
    assert done.headers["location"] == "/consents?notice=all-withdrawn"
    states = sorted(str(c["state"]) for c in _consents_api(browser))
    assert states == ["refused", "withdrawn", "withdrawn"]


def test_invalid_answers_are_shown_on_the_form_and_change_nothing(
    browser: TestClient, runtime: Runtime
) -> None:
    supplier = make_supplier(runtime)
    publish(browser, supplier, ["marketing"], ["interests"])
    sign_up(browser)
    bad_date = _grant(browser, supplier.owner_id, expires_on="2001-01-01")
    assert bad_date.status_code == 422 and "expires_at must be in the future" in bad_date.text
    bad_price = _grant(browser, supplier.owner_id, price="-3")
    assert bad_price.status_code == 422 and 'id="r-' in bad_price.text
    unknown = _grant(browser, "sup_nope")
    assert unknown.status_code == 422
    assert _consents_api(browser) == []


def test_another_consumers_consent_and_receipt_are_out_of_reach(
    browser: TestClient, runtime: Runtime
) -> None:
    supplier = make_supplier(runtime)
    publish(browser, supplier, ["marketing"], ["interests"])
    sign_up(browser, "victim@example.org")
    _grant(browser, supplier.owner_id)
    [victims] = _consents_api(browser)
    victim_token = browser.cookies.get(SESSION_COOKIE)
    browser.cookies.clear()
    sign_up(browser, "mallory@example.org")
    assert browser.get(f"/consents/{victims['id']}/receipt").status_code == 404
    page = browser.get("/consents")
    response = browser.post(f"/consents/{victims['id']}/withdraw", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")
    response = browser.get("/v1/me/consents", headers={"authorization": f"Bearer {victim_token}"})
    assert response.json()["items"][0]["state"] == "given"
