"""The supplier console and the auditor view through HTTP, as a browser and as an attacker would use them."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from api.pages.headers import CONTENT_SECURITY_POLICY
from api.session_cookie import AUDITOR_OPERATOR_COOKIE, SESSION_COOKIE, SUPPLIER_OPERATOR_COOKIE
from infomediary.database import unit_of_work
from infomediary.operators.models import OperatorKind
from infomediary.runtime import Runtime
from infomediary.sanctions import repository as sanctions_repository
from infomediary.suppliers import service as suppliers
from tests.fixtures.actors import Client, make_auditor, make_supplier
from tests.fixtures.consents import publish
from tests.fixtures.operators import make_operator, operator_login
from tests.pages.conftest import csrf_token, sign_up

SUPPLIER_PAGES = [
    "/supplier",
    "/supplier/ledger",
    "/supplier/policy",
    "/supplier/offers",
    "/supplier/credentials",
]
AUDIT_PAGES = ["/audit", "/audit/tree-heads", "/audit/verify", "/audit/reports", "/audit/sanctions"]
# A host after the slashes (dotted, as every external host is): base64 text such as a tree head's root hash
# may contain "//" but never a dot.
_URL = re.compile(r"""(?:https?:)?//(?:[a-z0-9-]+\.)+[a-z0-9-]+(?::\d+)?[^\s"'<>)]*""", re.IGNORECASE)


def _supplier_signed_in(browser: TestClient, runtime: Runtime, name: str = "Acme Books") -> Client:
    supplier = make_supplier(runtime, name=name)
    login = make_operator(runtime, OperatorKind.SUPPLIER, supplier.owner_id)
    assert operator_login(browser, "/supplier", login).status_code == 303
    return supplier


def _auditor_signed_in(browser: TestClient, runtime: Runtime) -> Client:
    auditor = make_auditor(runtime)
    login = make_operator(runtime, OperatorKind.AUDITOR, auditor.owner_id)
    assert operator_login(browser, "/audit", login).status_code == 303
    return auditor


def _token_status(http: TestClient, client_id: str, secret: str) -> int:
    data = {"grant_type": "client_credentials"}
    return http.post("/oauth/token", data=data, auth=(client_id, secret)).status_code


def test_a_supplier_operator_sees_status_strikes_and_budget(browser: TestClient, runtime: Runtime) -> None:
    supplier = _supplier_signed_in(browser, runtime)
    page = browser.get("/supplier")
    assert page.status_code == 200
    assert "Acme Books" in page.text and 'id="strikes">0<' in page.text
    budget = runtime.settings.audience_epsilon_budget
    assert f"{budget:.2f} of {budget:.2f} this period" in page.text
    for path in SUPPLIER_PAGES:
        response = browser.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path
        assert [u for u in _URL.findall(response.text) if "127.0.0.1:8000" not in u] == [], path
        assert "<script" not in response.text and "style=" not in response.text, path
    assert supplier.client_id in browser.get("/supplier/credentials").text


def test_the_operator_cookie_is_http_only_strict_and_scoped_to_its_console(
    browser: TestClient, runtime: Runtime
) -> None:
    supplier = make_supplier(runtime)
    login = make_operator(runtime, OperatorKind.SUPPLIER, supplier.owner_id)
    response = operator_login(browser, "/supplier", login)
    cookie = next(
        v for k, v in response.headers.multi_items() if k == "set-cookie" and SUPPLIER_OPERATOR_COOKIE in v
    )
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/supplier" in cookie
    assert response.headers["location"] == "/supplier"


def test_wrong_passwords_are_refused_then_throttled(browser: TestClient, runtime: Runtime) -> None:
    supplier = make_supplier(runtime)
    login = make_operator(runtime, OperatorKind.SUPPLIER, supplier.owner_id)
    for _ in range(runtime.settings.login_max_failures_per_account):
        refused = operator_login(browser, "/supplier", login, "not the right passphrase")
        assert refused.status_code == 401 and "do not match" in refused.text
    assert operator_login(browser, "/supplier", login).status_code == 429
    assert browser.get("/supplier", follow_redirects=False).status_code == 303


def test_rotating_the_secret_shows_it_once_and_the_old_one_stops_working(
    browser: TestClient, runtime: Runtime
) -> None:
    supplier = _supplier_signed_in(browser, runtime)
    page = browser.get("/supplier/credentials")
    rotated = browser.post(
        "/supplier/credentials/rotate", data={"client_id": supplier.client_id, "csrf_token": csrf_token(page)}
    )
    assert rotated.status_code == 200
    found = re.search(r'id="secret" type="text" readonly value="([^"]+)"', rotated.text)
    assert found is not None
    assert _token_status(browser, supplier.client_id, supplier.client_secret) == 401
    assert _token_status(browser, supplier.client_id, found.group(1)) == 200
    assert found.group(1) not in browser.get("/supplier/credentials").text


def test_forms_need_the_csrf_token(browser: TestClient, runtime: Runtime) -> None:
    supplier = _supplier_signed_in(browser, runtime)
    _auditor_signed_in(browser, runtime)
    for path, data in (
        ("/supplier/credentials/rotate", {"client_id": supplier.client_id}),
        ("/supplier/logout", {}),
        ("/audit/sanctions", {"supplier_id": supplier.owner_id, "kind": "suspension", "reason": "x"}),
        ("/audit/logout", {}),
    ):
        for token in (None, "A" * 43):
            sent = data if token is None else {**data, "csrf_token": token}
            response = browser.post(path, data=sent, follow_redirects=False)
            assert response.status_code == 403, path
    # Nothing happened: the secret still works, no sanction, both operators still signed in.
    assert _token_status(browser, supplier.client_id, supplier.client_secret) == 200
    with unit_of_work(runtime.session_factory) as session:
        assert sanctions_repository.strike_count(session, supplier.owner_id) == 0
        assert suppliers.get_own(session, supplier.owner_id).status == "active"
    assert browser.get("/supplier", follow_redirects=False).status_code == 200
    assert browser.get("/audit", follow_redirects=False).status_code == 200


def test_a_consumer_session_reaches_neither_console(browser: TestClient, runtime: Runtime) -> None:
    sign_up(browser)
    consumer_token = browser.cookies.get(SESSION_COOKIE)
    assert consumer_token
    for prefix, cookie in (("/supplier", SUPPLIER_OPERATOR_COOKIE), ("/audit", AUDITOR_OPERATOR_COOKIE)):
        response = browser.get(prefix, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith(f"{prefix}/login")
        # Not even with the consumer's token presented as an operator cookie.
        browser.cookies.set(cookie, consumer_token, path=prefix)
        response = browser.get(prefix, follow_redirects=False)
        assert response.status_code == 303, prefix
        browser.cookies.delete(cookie, path=prefix)


def test_an_operator_cookie_is_not_a_consumer_session(browser: TestClient, runtime: Runtime) -> None:
    _supplier_signed_in(browser, runtime)
    token = browser.cookies.get(SUPPLIER_OPERATOR_COOKIE)
    assert token
    browser.cookies.set(SUPPLIER_OPERATOR_COOKIE, token, path="/")
    assert "Create an account" in browser.get("/").text  # the welcome page: nobody is logged in
    browser.cookies.set(SESSION_COOKIE, token)
    assert "Create an account" in browser.get("/").text
    assert browser.get("/v1/me", headers={"authorization": f"Bearer {token}"}).status_code == 401


def test_a_supplier_operator_is_not_an_auditor(browser: TestClient, runtime: Runtime) -> None:
    _supplier_signed_in(browser, runtime)
    token = browser.cookies.get(SUPPLIER_OPERATOR_COOKIE)
    assert token
    browser.cookies.set(AUDITOR_OPERATOR_COOKIE, token, path="/audit")
    assert browser.get("/audit", follow_redirects=False).status_code == 303


def test_a_supplier_operator_sees_only_its_own_supplier(
    browser: TestClient, http: TestClient, runtime: Runtime
) -> None:
    other = make_supplier(runtime, name="Other Shop")
    publish(http, other, ["marketing"], ["demographics"])
    from tests.api.test_console_reads import _send

    their_offer = _send(http, runtime, other, "their private offer")
    _supplier_signed_in(browser, runtime)
    assert "Other Shop" not in browser.get("/supplier").text
    assert "their private offer" not in browser.get("/supplier/offers").text
    assert browser.get(f"/supplier/offers/{their_offer}").status_code == 404
    assert other.client_id not in browser.get("/supplier/credentials").text
    page = browser.get("/supplier/credentials")
    response = browser.post(
        "/supplier/credentials/rotate", data={"client_id": other.client_id, "csrf_token": csrf_token(page)}
    )
    assert response.status_code == 404
    assert _token_status(browser, other.client_id, other.client_secret) == 200


def test_an_auditor_searches_verifies_and_records_a_sanction(browser: TestClient, runtime: Runtime) -> None:
    shop = make_supplier(runtime, name="Shop Under Audit")
    publish(browser, shop, ["marketing"], ["interests"])
    _auditor_signed_in(browser, runtime)
    found = browser.get("/audit", params={"supplier_id": shop.owner_id})
    assert found.status_code == 200 and "Shop Under Audit" in found.text and "policy.published" in found.text
    assert "No entries match" in browser.get("/audit", params={"purpose": "research_and_development"}).text

    verified = browser.get("/audit/verify", params={"leaf_index": 0})
    assert verified.status_code == 200 and "badge verified" in verified.text
    forged = browser.get("/audit/verify", params={"leaf_index": 0, "checkpoint": "not a checkpoint\n"})
    assert "not verified" in forged.text and "badge verified" not in forged.text

    page = browser.get("/audit/sanctions")
    invalid = browser.post(
        "/audit/sanctions",
        data={"supplier_id": shop.owner_id, "kind": "penalty", "reason": "", "csrf_token": csrf_token(page)},
    )
    assert invalid.status_code == 422
    recorded = browser.post(
        "/audit/sanctions",
        data={
            "supplier_id": shop.owner_id,
            "kind": "suspension",
            "reason": "kept data after withdrawal",
            "csrf_token": csrf_token(page),
        },
    )
    assert recorded.status_code == 200 and "The sanction is recorded" in recorded.text
    assert "kept data after withdrawal" in recorded.text
    with unit_of_work(runtime.session_factory) as session:
        assert suppliers.get_own(session, shop.owner_id).status == "suspended"
    for path in AUDIT_PAGES:
        response = browser.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path
        assert [u for u in _URL.findall(response.text) if "127.0.0.1:8000" not in u] == [], path
    csv = browser.get("/audit/reports/processing.csv")
    assert csv.headers["content-type"].startswith("text/csv") and csv.text.startswith("supplier_id,")


@pytest.mark.parametrize("path", ["/supplier/ledger", "/audit/reports"])
def test_signed_out_visitors_are_sent_to_that_consoles_login(browser: TestClient, path: str) -> None:
    response = browser.get(path, follow_redirects=False)
    prefix = "/" + path.split("/")[1]
    assert response.status_code == 303
    assert (
        response.headers["location"] == f"{prefix}/login?next=%2F{path.split('/')[1]}%2F{path.split('/')[2]}"
    )
