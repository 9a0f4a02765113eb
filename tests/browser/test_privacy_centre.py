"""A new customer in a real browser, the walk of issue 19's "done when": signs up (the confirmation mail
received over SMTP, its link followed), turns on two-step sign-in, fills the profile, grants and withdraws a
consent (its receipt checked), turns a cell of "what each supplier may do now" round, switches Global Privacy
Control on, accepts an offer that tells the supplier who she is (and then sees that supplier among those that
know her), exports everything and deletes the account. Screenshots of each page are saved in var/screenshots/.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyotp
import pytest

from infomediary.mail.transport import SmtpTransport
from infomediary.runtime import Runtime
from tests.fixtures.actors import make_supplier
from tests.fixtures.consents import later, publish
from tests.fixtures.mail import link_token
from tests.fixtures.offers import post_offer_to_few
from tests.fixtures.runtimes import reconfigured
from tests.fixtures.smtp import SmtpServer, smtp_server

playwright = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")

PASSWORD = "correct horse battery staple"


@pytest.fixture
def relay() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


def test_a_customer_manages_their_data_end_to_end(
    runtime: Runtime,
    live_server: str,
    chromium_path: Path,
    screenshots: Path,
    tmp_path: Path,
    relay: SmtpServer,
) -> None:
    # The app's mail goes to a real SMTP server on loopback (the runtime is the one the live server serves).
    relayed = reconfigured(
        runtime, mail_smtp_host=relay.host, mail_smtp_port=relay.port, mail_smtp_starttls=False
    )
    runtime.mail_transport = SmtpTransport(relayed.settings)
    supplier = make_supplier(runtime, name="Acme Books")
    categories = ["identity", "contact", "demographics", "interests", "health"]
    with httpx.Client(base_url=live_server) as http:
        publish(http, supplier, ["marketing", "personalisation"], categories)  # type: ignore[arg-type]

    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium_path), args=["--no-sandbox"])
        # A phone-sized viewport: the pages must read on one.
        context = browser.new_context(viewport={"width": 390, "height": 844}, accept_downloads=True)
        page = context.new_page()
        external: list[str] = []
        page.on("request", lambda r: external.append(r.url) if not r.url.startswith(live_server) else None)
        violations: list[str] = []
        page.on(
            "console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None
        )

        def nav(name: str) -> None:
            page.get_by_role("navigation").get_by_role("link", name=name).click()

        def shot(name: str) -> None:
            page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)

        # Sign up.
        page.goto(live_server + "/")
        shot("welcome")
        page.get_by_role("link", name="Create an account").click()
        page.get_by_label("Email address").fill("ada@example.org")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()
        assert page.get_by_role("heading", name="Check your mail").is_visible()
        shot("signup-sent")
        # The mail arrives over SMTP; its link opens a page whose button confirms the address.
        [mail] = relay.inbox.wait_for("ada@example.org")
        page.goto(f"{live_server}/verify-email?token={link_token(mail.message, '/verify-email')}")
        shot("verify-email")
        page.get_by_role("button", name="Confirm my address").click()
        assert "Your address is confirmed" in page.get_by_role("status").inner_text()
        page.get_by_label("Email address").fill("ada@example.org")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        assert page.get_by_role("status").inner_text().startswith("You are logged in")
        shot("dashboard")

        # Two-step sign-in: the key from the page into an authenticator (here pyotp), then a code.
        nav("Sign-in security")
        shot("security")
        page.get_by_label("Your current password").fill(PASSWORD)
        page.get_by_role("button", name="Set up two-step sign-in").click()
        secret = page.locator("code.secret").first.inner_text().replace(" ", "").strip()
        shot("security-setup")
        totp = pyotp.TOTP(secret)
        page.get_by_label("The code the app shows now").fill(totp.now())
        page.get_by_role("button", name="Turn two-step sign-in on").click()
        recovery = page.locator("ol.codes code").all_inner_texts()
        assert len(recovery) == 10 and all(re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", c) for c in recovery)
        shot("security-codes")
        # Logging in again takes the code, on a page of its own (a recovery code: the app's was just used).
        page.get_by_role("button", name="Log out").click()
        page.get_by_label("Email address").fill("ada@example.org")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        shot("login-code")
        page.get_by_label("Code").fill(recovery[0])
        page.get_by_role("button", name="Log in").click()
        assert page.get_by_role("status").inner_text().startswith("You are logged in")

        # Fill the profile one topic at a time, fixing a mistake the page points out.
        nav("Profile")
        shot("profile")
        page.get_by_role("link", name="Who you are").click()
        page.get_by_label("Given name").fill("Ada")
        page.get_by_label("Family name").fill("Lovelace")
        page.get_by_role("button", name="Save profile").click()
        assert "Your profile is saved" in page.get_by_role("status").inner_text()
        assert page.get_by_label("Given name").input_value() == "Ada"
        page.get_by_role("link", name="All of your profile").click()
        page.get_by_role("link", name="About you").click()
        page.get_by_label("Gender").select_option("female")
        page.get_by_role("button", name="Save profile").click()
        assert "Your profile is saved" in page.get_by_role("status").inner_text()
        page.get_by_role("link", name="All of your profile").click()
        page.get_by_role("link", name="How to reach you").click()
        page.get_by_label("Phone number").fill("not a phone")
        page.get_by_role("button", name="Save profile").click()
        assert page.locator("#f-phone-error").is_visible()
        assert "does not look like a phone number" in page.locator("#f-phone-error").inner_text()
        assert page.locator("#f-phone").get_attribute("aria-invalid") == "true"
        shot("profile-invalid")
        page.get_by_label("Phone number").fill("+44 20 7946 0000")
        page.get_by_role("button", name="Save profile").click()
        assert "Your profile is saved" in page.get_by_role("status").inner_text()
        page.get_by_role("link", name="All of your profile").click()
        page.get_by_role("link", name="Your interests").click()
        page.get_by_label("Interests").fill("mathematics, engines")
        page.get_by_role("button", name="Save profile").click()
        assert "Your profile is saved" in page.get_by_role("status").inner_text()
        shot("profile-interests")

        # Grant a consent to the supplier, then withdraw it.
        nav("Consents")
        card = page.locator("section", has=page.get_by_role("heading", name="Acme Books"))
        card.get_by_label("Purpose").select_option("marketing")
        card.get_by_label("Data", exact=True).select_option("interests")
        card.get_by_role("button", name="Grant").click()
        assert "Consent given" in page.get_by_role("status").inner_text()
        shot("consents")
        page.get_by_role("link", name="Receipt for Marketing").click()
        assert "The signature checks out" in page.get_by_role("status").inner_text()
        shot("receipt")
        with page.expect_download() as receipt:
            page.get_by_role("link", name="Download the signed receipt (JWS)").click()
        assert receipt.value.suggested_filename.endswith(".jws")
        nav("Consents")
        page.get_by_role("button", name="Withdraw Marketing").click()
        assert "Consent withdrawn" in page.get_by_role("status").inner_text()

        # The withdrawal is in the log, in plain words.
        nav("Who used my data")
        assert page.get_by_text("you withdrew the consent you had given Acme Books").count() == 1
        shot("log")

        # What each supplier may do now: defaults for ordinary data show, and one click turns a cell round.
        nav("Consents")
        page.get_by_role("link", name="See what each supplier may do now, and why").click()
        grid = page.locator("section", has=page.get_by_role("heading", name="Acme Books"))
        cell = "Acme Books: Your interests, Tailoring to you"
        grid.get_by_role("button", name=f"Refuse {cell}").click()
        assert "Your answer is recorded" in page.get_by_role("status").inner_text()
        grid = page.locator("section", has=page.get_by_role("heading", name="Acme Books"))
        assert grid.get_by_role("button", name=f"Allow {cell}").is_visible()
        shot("effective")

        # Global Privacy Control switched on in the browser: the next page records it and says so, once.
        page.set_extra_http_headers({"Sec-GPC": "1"})
        nav("Overview")
        assert "Global Privacy Control signal opted you out" in page.get_by_role("status").first.inner_text()
        shot("gpc")
        nav("Consents")
        page.get_by_role("link", name="See what each supplier may do now, and why").click()
        assert page.get_by_role("status").count() == 0
        shot("effective-gpc")

        # An offer that would tell the supplier who she is: accepted only past a confirmation page that asks
        # for her password and a code again.
        offer = {
            "content": "Ada's engines: 10% off a difference engine kit",
            "purpose": "marketing",
            "predicate": {"eq": ["gender", "female"]},
            "reward_per_view": 2,
            "reward_per_acceptance": 10,
            "budget_cap": 1000,
            "expires_at": later(),
            "releases_identity": True,
        }
        with httpx.Client(base_url=live_server) as http:
            headers = {**supplier.headers(http), "Idempotency-Key": "walk-offer-1"}  # type: ignore[arg-type]
        posted = post_offer_to_few(runtime, offer, headers)
        assert posted.status_code == 201, posted.text
        nav("Inbox")
        assert page.get_by_text("Accepting tells Acme Books who you are").is_visible()
        shot("inbox-offer")
        page.get_by_role("button", name="Accept the offer from Acme Books").click()
        assert page.get_by_role("heading", name="Tell Acme Books who you are?").is_visible()
        shot("inbox-confirm")
        page.get_by_label("Your current password").fill(PASSWORD)
        page.get_by_label("Code from your authenticator app").fill(recovery[1])
        page.get_by_role("button", name="Yes, tell Acme Books who I am").click()
        assert "accepted" in page.get_by_role("status").inner_text()
        with httpx.Client(base_url=live_server) as http:
            read = http.get(f"/v1/offers/{posted.json()['id']}", headers=supplier.headers(http))  # type: ignore[arg-type]
        assert "Lovelace" in read.text  # the supplier now knows who she is
        # She now finds the supplier among those that know her, under the pseudonym her identity went with.
        nav("Who used my data")
        known = page.locator("section", has=page.get_by_role("heading", name="Who knows you"))
        assert known.get_by_role("rowheader", name="Acme Books").is_visible()
        released_under = known.locator("code.pseudonym").inner_text()
        shot("who-knows-me")
        [released] = read.json()["released_identities"]
        assert released["pseudonym"] == released_under and released["family_name"] == "Lovelace"

        # Standing terms and the inbox render too.
        nav("Standing terms")
        shot("terms")
        nav("Inbox")
        shot("inbox")

        # Export everything.
        nav("Export and delete")
        shot("rights")
        with page.expect_download() as download:
            page.get_by_role("link", name="Download my data").click()
        exported = tmp_path / "export.json"
        download.value.save_as(exported)
        document = json.loads(exported.read_text())
        assert "Lovelace" in json.dumps(document)
        [holder] = [h for h in document["pseudonyms"] if h["supplier"]["name"] == "Acme Books"]
        assert holder["pseudonym"] == released_under
        assert [o["id"] for o in document["offers"]] == [posted.json()["id"]]
        assert document["privacy_signal"]["gpc"] is True

        # Delete the account, past the confirmation and with the password again.
        page.get_by_role("link", name="Delete my account…").click()
        page.get_by_label("Your current password").fill(PASSWORD)
        page.get_by_label("Code from your authenticator app").fill(recovery[2])
        page.get_by_role("button", name="Delete my account").click()
        assert page.locator("#f-confirm-error").is_visible()
        page.get_by_label("I understand").check()
        page.get_by_label("Your current password").fill(PASSWORD)
        page.get_by_label("Code from your authenticator app").fill(recovery[2])
        page.get_by_role("button", name="Delete my account").click()
        assert page.get_by_role("heading", name="Your account is deleted").is_visible()
        assert page.locator("#receipt").input_value().count(".") == 2
        shot("erased")
        page.goto(live_server + "/profile")
        assert page.url.startswith(live_server + "/login")

        assert external == [], external
        assert violations == [], violations
        context.close()
        browser.close()
