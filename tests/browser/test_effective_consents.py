"""What each supplier may do now, in a real browser at phone and desktop sizes, with Global Privacy Control
switched on: the notice once, the grid readable without sideways scrolling on a phone, a cell turned round by
its labelled button. Screenshots of each size are saved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from infomediary.runtime import Runtime
from tests.browser.conftest import sign_up_and_in
from tests.fixtures.actors import make_auditor, make_supplier
from tests.fixtures.consents import publish

playwright = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")

PASSWORD = "correct horse battery staple"
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}


@pytest.mark.parametrize("size", sorted(SIZES))
def test_the_grid_with_gpc_on_in_a_browser(
    runtime: Runtime, live_server: str, chromium_path: Path, screenshots: Path, size: str
) -> None:
    supplier = make_supplier(runtime, name="Acme Books")
    purposes = ["marketing", "personalisation", "sell_data_to_third_parties"]
    warning = {"supplier_id": supplier.owner_id, "kind": "warning", "reason": "kept data too long"}
    with httpx.Client(base_url=live_server) as http:
        client: Any = http  # the helpers are typed for the test client; a live server takes plain httpx
        publish(client, supplier, purposes, ["interests", "contact", "health"])
        headers = make_auditor(runtime).headers(client)
        assert http.post("/v1/audit/sanctions", json=warning, headers=headers).status_code == 201

    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium_path), args=["--no-sandbox"])
        # The browser sends the signal on every request, as one with GPC switched on does.
        context = browser.new_context(viewport=SIZES[size], extra_http_headers={"Sec-GPC": "1"})
        page = context.new_page()
        violations: list[str] = []
        page.on(
            "console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None
        )

        sign_up_and_in(page, live_server, runtime, f"gpc-{size}@example.org", PASSWORD)
        # The first page after her first sign-in is the first that knows her: it records the signal, says so.
        assert "Global Privacy Control signal opted you out" in page.get_by_role("status").first.inner_text()

        page.get_by_role("navigation").get_by_role("link", name="Consents").click()
        assert page.get_by_role("status").count() == 0  # said once
        page.get_by_role("link", name="See what each supplier may do now, and why").click()
        assert page.get_by_role("heading", name="What each supplier may do now").is_visible()
        section = page.locator("section", has=page.get_by_role("heading", name="Acme Books"))
        assert "warned" in section.get_by_role("heading").first.inner_text()
        table = section.get_by_role("table")
        assert table.get_by_role("rowheader", name="Your interests").is_visible()
        # Nothing is wider than the screen: the grid stacks into labelled cells on a phone.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=str(screenshots / f"effective-{size}.png"), full_page=True)

        section.get_by_role("button", name="Refuse Acme Books: Your interests, Marketing").click()
        assert "Your answer is recorded" in page.get_by_role("status").inner_text()
        section = page.locator("section", has=page.get_by_role("heading", name="Acme Books"))
        assert section.get_by_role("button", name="Allow Acme Books: Your interests, Marketing").is_visible()
        page.screenshot(path=str(screenshots / f"effective-switched-{size}.png"), full_page=True)

        assert violations == [], violations
        context.close()
        browser.close()
