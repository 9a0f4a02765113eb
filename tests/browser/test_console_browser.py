"""The supplier console and the auditor view in a real browser: a supplier operator signs in and sees the
budget; an auditor verifies an entry's inclusion proof and records a sanction. Every main page is
photographed (var/screenshots/)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from infomediary.database import unit_of_work
from infomediary.ledger import service as ledger
from infomediary.operators.models import OperatorKind
from infomediary.runtime import Runtime
from infomediary.suppliers import service as suppliers
from tests.fixtures.actors import make_auditor, make_consumer, make_supplier
from tests.fixtures.consents import publish
from tests.fixtures.operators import OPERATOR_PASSWORD, make_operator
from tests.fixtures.policylog import sign_head

playwright = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")


@pytest.fixture
def chromium(chromium_path: Path) -> Iterator[Any]:
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium_path), args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


def _sign_in(page: Any, base: str, prefix: str, login: str) -> None:
    page.goto(f"{base}{prefix}")
    # Signed out: the console sends the visitor to its own log-in form, and back afterwards.
    assert page.url.startswith(f"{base}{prefix}/login")
    page.get_by_label("Email address").fill(login)
    page.get_by_label("Password").fill(OPERATOR_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}{prefix}")


def test_a_supplier_operator_signs_in_and_sees_the_budget(
    chromium: Any, live_server: str, runtime: Runtime, http: TestClient, screenshots: Path
) -> None:
    supplier = make_supplier(runtime, name="Demo Shop")
    publish(http, supplier, ["marketing", "personalisation"], ["interests", "demographics"])
    with unit_of_work(runtime.session_factory) as session:
        ledger.top_up(session, supplier_id=supplier.owner_id, amount=500, idempotency_key="browser-test")
    login = make_operator(runtime, OperatorKind.SUPPLIER, supplier.owner_id)

    context = chromium.new_context(viewport={"width": 1100, "height": 800})
    page = context.new_page()
    try:
        _sign_in(page, live_server, "/supplier", login)
        budget = runtime.settings.audience_epsilon_budget
        assert page.locator("#epsilon").inner_text() == f"{budget:.2f} of {budget:.2f} this period"
        assert page.locator("#balance").inner_text() == "500 credits"
        assert page.locator("#strikes").inner_text() == "0"
        page.screenshot(path=str(screenshots / "supplier-overview.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})  # a phone
        page.screenshot(path=str(screenshots / "supplier-overview-phone.png"), full_page=True)
        page.set_viewport_size({"width": 1100, "height": 800})
        for name, label in (
            ("ledger", "Ledger"),
            ("policy", "Privacy policy"),
            ("offers", "Offers"),
            ("credentials", "API credentials"),
        ):
            page.get_by_role("navigation").get_by_role("link", name=label).click()
            page.wait_for_url(f"{live_server}/supplier/{name}")
            page.screenshot(path=str(screenshots / f"supplier-{name}.png"), full_page=True)
        page.get_by_role("button", name="Rotate the secret").click()
        secret = page.locator("#secret").input_value()
        assert len(secret) >= 40 and secret != supplier.client_secret
        page.get_by_role("button", name="Log out").click()
        page.wait_for_url(f"{live_server}/supplier/login?notice=logged-out")
        page.goto(f"{live_server}/supplier")
        assert page.url.startswith(f"{live_server}/supplier/login")
    finally:
        context.close()


def test_an_auditor_verifies_a_proof_and_records_a_sanction(
    chromium: Any, live_server: str, runtime: Runtime, http: TestClient, screenshots: Path
) -> None:
    shop = make_supplier(runtime, name="Shop Under Audit")
    publish(http, shop, ["marketing"], ["interests"])
    make_consumer(http)
    sign_head(runtime)
    auditor = make_auditor(runtime, name="Watchdog")
    login = make_operator(runtime, OperatorKind.AUDITOR, auditor.owner_id)

    context = chromium.new_context(viewport={"width": 1100, "height": 800})
    page = context.new_page()
    try:
        _sign_in(page, live_server, "/audit", login)
        page.get_by_label("Supplier").select_option(label="Shop Under Audit")
        page.get_by_role("button", name="Search").click()
        rows = page.locator("#log tbody tr")
        assert rows.count() >= 1
        assert "policy.published" in page.locator("#log").inner_text()
        page.screenshot(path=str(screenshots / "audit-log.png"), full_page=True)

        rows.first.get_by_role("link", name="Verify").click()
        result = page.locator("#result")
        assert "verified" in result.locator(".badge").inner_text()
        assert "Tree head signature under the published key: valid" in result.inner_text()
        page.screenshot(path=str(screenshots / "audit-verify.png"), full_page=True)

        page.get_by_role("navigation").get_by_role("link", name="Tree heads").click()
        assert page.locator("#heads li").count() >= 1
        page.screenshot(path=str(screenshots / "audit-tree-heads.png"), full_page=True)
        page.get_by_role("navigation").get_by_role("link", name="Reports").click()
        assert "Shop Under Audit" in page.locator("main").inner_text()
        page.screenshot(path=str(screenshots / "audit-reports.png"), full_page=True)

        page.get_by_role("navigation").get_by_role("link", name="Sanctions").click()
        page.get_by_label("Supplier").select_option(label="Shop Under Audit (active)")
        page.get_by_label("warning").check()
        page.get_by_label("Reason").fill("consent receipts issued late")
        page.get_by_role("button", name="Record the sanction").click()
        assert "The sanction is recorded" in page.locator(".notice").inner_text()
        assert "consent receipts issued late" in page.locator("#recent").inner_text()
        page.screenshot(path=str(screenshots / "audit-sanctions.png"), full_page=True)
    finally:
        context.close()
    with unit_of_work(runtime.session_factory) as session:
        assert suppliers.get_own(session, shop.owner_id).status == "warned"
