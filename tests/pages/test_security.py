"""Security of the pages, tried as an attacker would: forms without a valid CSRF token, cross-site posts,
missing Content-Security-Policy, external URLs, and one consumer reaching for another's objects."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.pages import routing
from api.pages.headers import CONTENT_SECURITY_POLICY
from api.session_cookie import SESSION_COOKIE
from infomediary.runtime import Runtime
from tests.conftest import ISSUER
from tests.fixtures.actors import make_supplier
from tests.fixtures.consents import publish
from tests.pages.conftest import PASSWORD, csrf_token, sign_up

# A host after the slashes (dotted, as every external host is): base64 text such as a tree head's root hash
# may contain "//" but never a dot.
_URL = re.compile(r"""(?:https?:)?//(?:[a-z0-9-]+\.)+[a-z0-9-]+(?::\d+)?[^\s"'<>)]*""", re.IGNORECASE)
_PARAM = re.compile(r"\{[^}]+\}")


def page_routes(app: FastAPI, method: str) -> list[str]:
    return sorted(route.path for route in routing.page_routes(app) if method in (route.methods or set()))


def _fill(path: str) -> str:
    return _PARAM.sub("x0000000000", path)


def test_every_form_route_refuses_a_post_without_the_token(app: FastAPI, browser: TestClient) -> None:
    sign_up(browser)
    posts = page_routes(app, "POST")
    assert {"/login", "/logout", "/signup"} <= set(posts)
    for path in posts:
        missing = browser.post(_fill(path), data={}, follow_redirects=False)
        assert missing.status_code == 403, path
        forged = browser.post(_fill(path), data={"csrf_token": "A" * 43}, follow_redirects=False)
        assert forged.status_code == 403, path
        assert "did not come from this site" in forged.text
        assert forged.headers["content-type"].startswith("text/html"), path
    # Still logged in: none of those posts logged the customer out.
    assert "Latest uses of your data" in browser.get("/").text


def test_a_token_from_another_session_is_refused(app: FastAPI, browser: TestClient) -> None:
    sign_up(browser, "mallory@example.org")
    mallorys_token = csrf_token(browser.get("/"))
    browser.cookies.clear()
    sign_up(browser, "victim@example.org")
    response = browser.post("/logout", data={"csrf_token": mallorys_token}, follow_redirects=False)
    assert response.status_code == 403
    assert "Latest uses of your data" in browser.get("/").text


def test_log_in_csrf_needs_the_visitors_own_presession(browser: TestClient) -> None:
    # An attacker's page cannot log the victim into the attacker's account: the token is bound to a cookie
    # the attacker's site cannot set or read.
    attacker_token = csrf_token(browser.get("/login"))
    browser.cookies.clear()
    response = browser.post(
        "/login", data={"email": "a@example.org", "password": "x" * 12, "csrf_token": attacker_token}
    )
    assert response.status_code == 403


def test_a_cross_site_post_is_refused_even_with_a_valid_token(browser: TestClient) -> None:
    sign_up(browser)
    token = csrf_token(browser.get("/"))
    for headers in ({"origin": "https://evil.example"}, {"origin": "null"}, {"sec-fetch-site": "cross-site"}):
        response = browser.post(
            "/logout", data={"csrf_token": token}, headers=headers, follow_redirects=False
        )
        assert response.status_code == 403, headers
    same = browser.post(
        "/logout", data={"csrf_token": token}, headers={"origin": ISSUER}, follow_redirects=False
    )
    assert same.status_code == 303


def _external_urls(html: str) -> list[str]:
    return [u for u in _URL.findall(html) if not u.lstrip("htps:").startswith("//" + ISSUER.split("//")[1])]


@pytest.mark.parametrize("logged_in", [False, True])
def test_every_page_has_the_policy_and_no_external_url(
    app: FastAPI, browser: TestClient, logged_in: bool
) -> None:
    if logged_in:
        sign_up(browser)
    pages = [p for p in page_routes(app, "GET") if not _PARAM.search(p)]
    assert "/" in pages and "/login" in pages
    # Where a mailed link leads, without its token: the page that says the link does not work.
    links = {"/verify-email", "/reset-password", "/change-email"}
    for path in pages:
        response = browser.get(path)
        assert response.status_code == (400 if path in links else 200), path
        if not response.headers["content-type"].startswith("text/html"):
            continue
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path
        assert response.headers["x-frame-options"] == "DENY"
        assert _external_urls(response.text) == [], path
        assert "<script" not in response.text and "style=" not in response.text, path
    css = browser.get("/static/site.css")
    assert css.status_code == 200 and _external_urls(css.text) == []


def test_the_policy_forbids_inline_script_framing_and_foreign_forms() -> None:
    directives = dict(d.strip().split(" ", 1) for d in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["form-action"] == "'self'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


def test_errors_on_pages_render_as_pages_whatever_the_client_accepts(browser: TestClient) -> None:
    refused = browser.post("/logout", data={}, headers={"accept": "*/*"})
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("text/html")

    missing = browser.get("/no-such-page")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert missing.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "Not found" in missing.text
    # The API keeps answering problem+json.
    api = browser.get("/v1/no-such-thing")
    assert api.headers["content-type"] == "application/problem+json"


def test_the_session_cookie_is_http_only_and_same_site(browser: TestClient) -> None:
    response = sign_up(browser)
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and SESSION_COOKIE in v)
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_values_a_customer_or_supplier_typed_are_escaped(browser: TestClient, runtime: Runtime) -> None:
    supplier = make_supplier(runtime, name='<script>alert("s")</script>')
    publish(browser, supplier, ["marketing"], ["interests"])
    sign_up(browser)
    bearer = {"authorization": f"Bearer {browser.cookies.get(SESSION_COOKIE)}"}
    evil = '"><script>alert(1)</script>'
    assert browser.patch("/v1/me/profile", json={"given_name": evil}, headers=bearer).status_code == 200
    for path in ("/profile", "/consents"):
        page = browser.get(path)
        assert "<script" not in page.text, path
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in browser.get("/profile").text


@pytest.mark.parametrize(
    "target", ["//evil.example/", "/\\evil.example", "/\t/evil.example", "https://evil.example"]
)
def test_log_in_never_redirects_off_site(browser: TestClient, target: str) -> None:
    sign_up(browser)
    browser.cookies.delete(SESSION_COOKIE)
    page = browser.get("/login")
    data = {"email": "ada@example.org", "password": PASSWORD, "next": target, "csrf_token": csrf_token(page)}
    response = browser.post("/login", data=data, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/?notice=logged-in"
