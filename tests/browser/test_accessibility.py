"""Every page of the privacy centre and of the operators' consoles passes axe-core with no serious or
critical violation, at desktop and at phone size (issue 19). axe runs in the page through the browser's
debugging protocol, so the pages' own Content-Security-Policy stays in force (no script of ours is allowed
in them, and none is added)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright import sync_api as playwright

from infomediary.operators.models import OperatorKind
from infomediary.runtime import Runtime
from tests.browser.conftest import sign_up_and_in
from tests.fixtures.actors import PASSWORD, make_auditor, make_supplier
from tests.fixtures.consents import publish
from tests.fixtures.mail import last_token
from tests.fixtures.operators import OPERATOR_PASSWORD, make_operator

SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
# Only these fail the test: "moderate" and "minor" findings are reported by axe but are judgement calls.
BLOCKING = {"serious", "critical"}


def _violations(page: playwright.Page, axe_source: str) -> list[str]:
    page.evaluate(axe_source)
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    # axe ran on this page (not an empty document or an error page of the browser's own).
    assert result["testEngine"]["name"] == "axe-core" and result["url"] == page.url
    found = []
    for violation in result["violations"]:
        if violation["impact"] in BLOCKING:
            targets = [", ".join(node["target"]) for node in violation["nodes"]][:3]
            found.append(f"{violation['impact']} {violation['id']}: {violation['help']} at {targets}")
    return found


@pytest.mark.parametrize("size", sorted(SIZES))
def test_every_consumer_page_passes_axe(
    runtime: Runtime, live_server: str, chromium_path: Path, axe_source: str, size: str
) -> None:
    supplier = make_supplier(runtime, name="Acme Books")
    with httpx.Client(base_url=live_server) as http:
        publish(http, supplier, ["marketing", "direct_marketing"], ["interests", "contact"])  # type: ignore[arg-type]

    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium_path), args=["--no-sandbox"])
        page = browser.new_context(viewport=SIZES[size]).new_page()  # type: ignore[arg-type]
        failures: dict[str, list[str]] = {}

        def check(path: str) -> None:
            page.goto(live_server + path)
            found = _violations(page, axe_source)
            if found:
                failures[path] = found

        for path in (
            "/",
            "/privacy",
            "/signup",
            "/login",
            "/time-zone",
            "/forgot-password",
            "/verify-email/resend",
        ):
            check(path)
        sign_up_and_in(page, live_server, runtime, "ada@example.org", PASSWORD)
        page.goto(live_server + "/consents")
        card = page.locator("section", has=page.get_by_role("heading", name="Acme Books"))
        card.get_by_label("Purpose").select_option("marketing")
        card.get_by_label("Data", exact=True).select_option("interests")
        card.get_by_role("button", name="Grant").click()
        receipt = page.get_by_role("link", name="Receipt for Marketing").get_attribute("href")
        # Direct marketing by mail to one supplier: it gets a relay address, which the relay page lists.
        card = page.locator("section", has=page.get_by_role("heading", name="Acme Books"))
        card.get_by_label("Purpose").select_option("direct_marketing")
        card.get_by_label("Data", exact=True).select_option("contact")
        card.get_by_role("button", name="Grant").click()
        signed_in = [
            "/",
            "/profile",
            "/profile/identity",
            "/profile/contact",
            "/profile/health",
            "/consents",
            "/consents/effective",
            str(receipt),
            "/terms",
            "/inbox",
            "/log",
            "/privacy-loss",
            "/vouchers",
            "/relay",
            "/rights",
            "/rights/delete",
            "/time-zone",
            "/security",
        ]
        for path in signed_in:
            check(path)
        page.goto(live_server + "/relay")
        assert page.get_by_text("Acme Books").count() >= 1  # the relay page was checked with an address on it
        # A form with refusals shown next to their fields, too.
        page.goto(live_server + "/profile/contact")
        page.get_by_label("Phone number").fill("not a phone")
        page.get_by_role("button", name="Save profile").click()
        found = _violations(page, axe_source)
        if found:
            failures["/profile/contact (refused)"] = found
        # A voucher she has no credits for: the form again, with the refusal in words.
        page.goto(live_server + "/vouchers")
        page.get_by_label("Value in credits").fill("5")
        page.get_by_role("button", name="Issue the voucher").click()
        found = _violations(page, axe_source)
        if found:
            failures["/vouchers (refused)"] = found
        # The pages the account mails' links open, each with a live token: a new login address to confirm
        # (it asks for the password) and a new password to set.
        page.goto(live_server + "/profile/contact")
        page.get_by_label("Email address").fill("ada.new@example.org")
        page.get_by_role("button", name="Save profile").click()
        check(f"/change-email?token={last_token(runtime, 'ada.new@example.org', '/change-email')}")
        with httpx.Client(base_url=live_server) as http:
            asked = http.post("/v1/accounts/password-reset", json={"email": "ada@example.org"})
            assert asked.status_code == 202, asked.text
        check(f"/reset-password?token={last_token(runtime, 'ada@example.org', '/reset-password')}")
        browser.close()
    assert failures == {}, "\n".join(f"{path}: {v}" for path, vs in failures.items() for v in vs)


@pytest.mark.parametrize("size", sorted(SIZES))
def test_every_console_page_passes_axe(
    runtime: Runtime, live_server: str, chromium_path: Path, axe_source: str, size: str
) -> None:
    supplier = make_supplier(runtime, name="Acme Books")
    logins = {
        "/supplier": make_operator(runtime, OperatorKind.SUPPLIER, supplier.owner_id),
        "/audit": make_operator(runtime, OperatorKind.AUDITOR, make_auditor(runtime).owner_id),
    }
    pages = {
        "/supplier": ["", "/ledger", "/policy", "/offers", "/credentials"],
        "/audit": ["", "/tree-heads", "/verify", "/reports", "/sanctions"],
    }
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium_path), args=["--no-sandbox"])
        failures: dict[str, list[str]] = {}
        for prefix, login in logins.items():
            page = browser.new_context(viewport=SIZES[size]).new_page()  # type: ignore[arg-type]
            page.goto(f"{live_server}{prefix}/login")
            found = _violations(page, axe_source)
            if found:
                failures[f"{prefix}/login"] = found
            page.get_by_label("Email address").fill(login)
            page.get_by_label("Password").fill(OPERATOR_PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(f"{live_server}{prefix}")
            for path in pages[prefix]:
                page.goto(f"{live_server}{prefix}{path}")
                found = _violations(page, axe_source)
                if found:
                    failures[f"{prefix}{path}"] = found
        browser.close()
    assert failures == {}, "\n".join(f"{path}: {v}" for path, vs in failures.items() for v in vs)
