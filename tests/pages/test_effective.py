"""What each supplier may do now, as the customer sees it: every supplier with its status (a warned one
too), the grid's answers and reasons, one click turning a cell round (logged, and what the next slice gets),
withdraw-all, paging, accessible markup; and Global Privacy Control honoured on the pages, said once."""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.pages import routing
from api.session_cookie import SESSION_COOKIE
from infomediary.runtime import Runtime
from tests.fixtures.actors import PASSWORD, Client, make_auditor, make_consumer, make_supplier
from tests.fixtures.audiences import PROFILE
from tests.fixtures.consents import grant, publish
from tests.pages.conftest import csrf_token, sign_up

PAGE = "/consents/effective"
GPC = {"Sec-GPC": "1"}
GPC_NOTICE = "Global Privacy Control signal opted you out of sale and sharing of your data with all suppliers"


def _api(browser: TestClient) -> dict[str, str]:
    """The bearer headers of the customer logged in to the pages (the cookie is the session token)."""
    return {"authorization": f"Bearer {browser.cookies.get(SESSION_COOKIE)}", "accept": "application/json"}


def _api_cell(browser: TestClient, supplier: Client, purpose: str, category: str) -> dict[str, Any]:
    body = browser.get("/v1/me/consents/effective", params={"limit": 20}, headers=_api(browser)).json()
    [item] = [i for i in body["items"] if i["supplier"]["id"] == supplier.owner_id]
    [cell] = [c for c in item["cells"] if (c["purpose"], c["category"]) == (purpose, category)]
    return dict(cell)


def _td(page: httpx.Response, supplier: Client, purpose: str, category: str) -> str:
    """The HTML of one cell of the grid: the one whose form names this supplier, purpose and category."""
    section = page.text.split(f'id="s-{supplier.owner_id}"', 1)[1].split("</section>", 1)[0]
    for cell in section.split("<td ")[1:]:
        if f'name="purpose" value="{purpose}"' in cell and f'name="category" value="{category}"' in cell:
            return cell.split("</td>", 1)[0]
    raise AssertionError(f"no switchable cell for {purpose} x {category}")


def _click(
    browser: TestClient, page: httpx.Response, supplier: Client, purpose: str, category: str, **extra: str
) -> httpx.Response:
    cell = _td(page, supplier, purpose, category)
    to = re.search(r'name="to" value="(allow|refuse)"', cell)
    assert to is not None
    data = {
        "supplier_id": supplier.owner_id,
        "purpose": purpose,
        "category": category,
        "to": to.group(1),
        "cursor": "",
        "csrf_token": csrf_token(page),
    }
    return browser.post(PAGE, data=data, follow_redirects=False, headers=extra)


def _log(browser: TestClient) -> list[dict[str, Any]]:
    body = browser.get("/v1/me/log", params={"limit": 200}, headers=_api(browser)).json()
    return [json.loads(base64.b64decode(e["leaf_input"])) for e in body["entries"]]


def _warn(browser: TestClient, runtime: Runtime, supplier: Client) -> None:
    auditor = make_auditor(runtime)
    body = {"supplier_id": supplier.owner_id, "kind": "warning", "reason": "kept data too long"}
    assert browser.post("/v1/audit/sanctions", json=body, headers=auditor.headers(browser)).status_code == 201


def test_a_warned_supplier_stays_listed_with_its_status(browser: TestClient, runtime: Runtime) -> None:
    warned = make_supplier(runtime, name="Warned Books")
    publish(browser, warned, ["marketing"], ["interests"])
    _warn(browser, runtime, warned)
    sign_up(browser)
    consents = browser.get("/consents")
    # The consents page lists it, with its status, and its form: it can be refused on its own.
    assert "Warned Books" in consents.text and 'class="badge status-warned"' in consents.text
    assert f'name="supplier_id" value="{warned.owner_id}"' in consents.text
    page = browser.get(PAGE)
    assert "Warned Books" in page.text and "Warned: it broke the rules" in page.text
    cell = _td(page, warned, "marketing", "interests")
    assert 'class="badge permit">Yes' in cell
    assert "Ordinary data for an ordinary purpose may be used unless you object." in cell


def test_a_click_turns_the_answer_round_in_force_and_logged(browser: TestClient, runtime: Runtime) -> None:
    supplier = make_supplier(runtime, name="Acme Books")
    publish(browser, supplier, ["marketing", "sell_data_to_third_parties"], ["interests", "health"])
    sign_up(browser)
    page = browser.get(PAGE)
    assert _api_cell(browser, supplier, "marketing", "interests")["reason"] == "permitted_by_default"
    done = _click(browser, page, supplier, "marketing", "interests")
    assert done.status_code == 303
    assert done.headers["location"] == f"{PAGE}?notice=cell-switched#s-{supplier.owner_id}"
    after = browser.get(done.headers["location"].split("#")[0])
    assert "Your answer is recorded and in force now." in after.text
    cell = _td(after, supplier, "marketing", "interests")
    assert 'class="badge deny">No' in cell and "You refused consent." in cell and 'value="allow"' in cell
    assert _api_cell(browser, supplier, "marketing", "interests")["reason"] == "consent_refused"
    # Sensitive data: a yes, then a no that withdraws it; each a consent event in the log.
    assert "Sensitive data: only with your yes." in _td(after, supplier, "marketing", "health")
    _click(browser, after, supplier, "marketing", "health")
    assert _api_cell(browser, supplier, "marketing", "health")["reason"] == "permitted_by_consent"
    _click(browser, browser.get(PAGE), supplier, "marketing", "health")
    assert _api_cell(browser, supplier, "marketing", "health")["reason"] == "consent_withdrawn"
    kinds = [(e["kind"], e.get("categories")) for e in _log(browser) if e["kind"].startswith("consent.")]
    assert kinds == [
        ("consent.refused", ["interests"]),
        ("consent.granted", ["health"]),
        ("consent.withdrawn", ["health"]),
    ]


def test_what_the_grid_says_is_what_the_next_slice_gets(browser: TestClient, runtime: Runtime) -> None:
    k = runtime.settings.slice_min_k
    consumers = [make_consumer(browser) for _ in range(k + 1)]
    for consumer in consumers:
        assert browser.patch("/v1/me/profile", json=PROFILE, headers=consumer.headers).status_code == 200
    supplier = make_supplier(runtime)
    publish(browser, supplier, ["marketing"], ["demographics", "interests"])
    body = {"purpose": "marketing", "fields": ["birth_date", "gender", "interests"]}

    def slice_count() -> int:
        response = browser.post("/v1/slices", json=body, headers=supplier.headers(browser))
        assert response.status_code == 200, response.text
        return int(response.headers["slice-count"])

    assert slice_count() == k + 1
    # She logs in to the pages (the API's log-in sets the same cookie) and refuses one cell in one click.
    browser.cookies.clear()
    login = {"email": consumers[0].email, "password": PASSWORD}
    assert browser.post("/v1/session", json=login).status_code == 200
    page = browser.get(PAGE)
    assert 'class="badge permit">Yes' in _td(page, supplier, "marketing", "interests")
    assert _click(browser, page, supplier, "marketing", "interests").status_code == 303
    assert slice_count() == k


def test_withdraw_all_from_the_grid(browser: TestClient, runtime: Runtime) -> None:
    supplier = make_supplier(runtime)
    publish(browser, supplier, ["marketing"], ["health"])
    sign_up(browser)
    grant(browser, _consumer_of(browser), supplier.owner_id, "marketing", "health")  # type: ignore[arg-type]
    page = browser.get(PAGE)
    assert 'class="badge permit">Yes' in _td(page, supplier, "marketing", "health")
    done = browser.post(
        f"{PAGE}/withdraw-all", data={"csrf_token": csrf_token(page), "cursor": ""}, follow_redirects=False
    )
    assert done.headers["location"] == f"{PAGE}?notice=all-withdrawn"
    assert "You withdrew your consent." in _td(browser.get(PAGE), supplier, "marketing", "health")


class _Bearer:
    """What `grant` needs of a consumer: the bearer headers."""

    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers


def _consumer_of(browser: TestClient) -> _Bearer:
    return _Bearer(_api(browser))


def test_suppliers_come_a_page_at_a_time_and_a_click_returns_to_its_page(
    browser: TestClient, runtime: Runtime
) -> None:
    suppliers = [make_supplier(runtime, name=f"Supplier {i:02d}") for i in range(11)]
    for supplier in suppliers:
        publish(browser, supplier, ["marketing"], ["interests"])
    sign_up(browser)
    first = browser.get(PAGE)
    assert "Supplier 00" in first.text and "Supplier 09" in first.text and "Supplier 10" not in first.text
    more = re.search(r'<a href="(/consents/effective\?cursor=[^"]+)">More suppliers</a>', first.text)
    assert more is not None
    second = browser.get(more.group(1))
    assert "Supplier 10" in second.text and "Supplier 00" not in second.text
    cursor = parse_qs(urlsplit(more.group(1)).query)["cursor"][0]
    cell = _td(second, suppliers[10], "marketing", "interests")
    assert f'name="cursor" value="{cursor}"' in cell
    done = browser.post(
        PAGE,
        data={
            "supplier_id": suppliers[10].owner_id,
            "purpose": "marketing",
            "category": "interests",
            "to": "refuse",
            "cursor": cursor,
            "csrf_token": csrf_token(second),
        },
        follow_redirects=False,
    )
    assert urlsplit(done.headers["location"]).path == PAGE
    assert parse_qs(urlsplit(done.headers["location"]).query)["cursor"] == [cursor]


def test_the_grid_is_an_accessible_table_with_labelled_buttons(browser: TestClient, runtime: Runtime) -> None:
    supplier = make_supplier(runtime, name="Acme Books")
    publish(browser, supplier, ["marketing", "personalisation"], ["interests", "health"])
    sign_up(browser)
    page = browser.get(PAGE)
    assert "<script" not in page.text and "style=" not in page.text
    assert "<caption>What Acme Books may do with your data" in page.text
    assert page.text.count('<th scope="col">') == 3 and page.text.count('<th scope="row">') == 2
    buttons = re.findall(r'<button type="submit" name="to"[^>]*>(.*?)</button>', page.text)
    assert len(buttons) == 4
    for button in buttons:
        assert re.fullmatch(
            r'(Allow|Refuse)<span class="visually-hidden"> Acme Books: [^<]+, [^<]+</span>', button
        )
    # Each cell is labelled for the narrow-screen layout, where the column headers are hidden.
    assert 'data-label="Tailoring to you"' in page.text


def test_a_switch_naming_nothing_real_changes_nothing(browser: TestClient, runtime: Runtime) -> None:
    supplier = make_supplier(runtime)
    publish(browser, supplier, ["marketing"], ["interests"])
    sign_up(browser)
    page = browser.get(PAGE)
    base = {"purpose": "marketing", "category": "interests", "to": "refuse", "csrf_token": csrf_token(page)}
    unknown = browser.post(PAGE, data={**base, "supplier_id": "sup_nobody"}, follow_redirects=False)
    assert unknown.status_code == 404 and unknown.headers["content-type"].startswith("text/html")
    bad = browser.post(PAGE, data={**base, "supplier_id": supplier.owner_id, "to": "maybe"})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("text/html")
    items = browser.get("/v1/me/consents", headers=_api(browser)).json()["items"]
    assert items == []


# --- Global Privacy Control on the pages -------------------------------------------------------------


def _gpc_entries(browser: TestClient) -> list[dict[str, Any]]:
    return [e for e in _log(browser) if e.get("details", {}).get("signal") == "sec-gpc"]


def test_the_signal_on_a_page_is_recorded_and_said_once(browser: TestClient, runtime: Runtime) -> None:
    supplier = make_supplier(runtime)
    publish(browser, supplier, ["sell_data_to_third_parties"], ["interests"])
    sign_up(browser)
    grant(browser, _consumer_of(browser), "*", "sell_data_to_third_parties", "*")  # type: ignore[arg-type]
    assert _api_cell(browser, supplier, "sell_data_to_third_parties", "interests")["permitted"] is True
    first = browser.get("/consents", headers=GPC)
    assert GPC_NOTICE in first.text
    assert len(_gpc_entries(browser)) == 1
    # What it changed shows on the grid: the grant to every supplier to sell no longer counts.
    page = browser.get(PAGE, headers=GPC)
    assert GPC_NOTICE not in page.text
    assert "opted you out of sale and sharing" in _td(
        page, supplier, "sell_data_to_third_parties", "interests"
    )
    assert "your browser's signal opts you" in page.text  # the standing line, on every visit
    assert _api_cell(browser, supplier, "sell_data_to_third_parties", "interests")["reason"] == "gpc_opt_out"
    assert GPC_NOTICE not in browser.get("/", headers=GPC).text
    assert len(_gpc_entries(browser)) == 1


def test_the_signal_on_a_form_is_said_on_the_page_after_it(browser: TestClient, runtime: Runtime) -> None:
    supplier = make_supplier(runtime)
    publish(browser, supplier, ["sell_data_to_third_parties"], ["interests"])
    sign_up(browser)
    page = browser.get(PAGE)
    # A yes to this one supplier, on the request that brings the signal, is newer than the signal: it counts.
    done = _click(browser, page, supplier, "sell_data_to_third_parties", "interests", **GPC)
    assert done.status_code == 303
    location = done.headers["location"]
    assert location == f"{PAGE}?notice=cell-switched&notice=gpc-recorded#s-{supplier.owner_id}"
    after = browser.get(location.split("#")[0])
    assert GPC_NOTICE in after.text and "Your answer is recorded" in after.text
    assert _api_cell(browser, supplier, "sell_data_to_third_parties", "interests")["reason"] == (
        "permitted_by_consent"
    )
    assert len(_gpc_entries(browser)) == 1


LINK_PAGES = ("/reset-password", "/verify-email", "/change-email")


def _consumer_pages(app: FastAPI) -> list[str]:
    return sorted(
        {
            route.path
            for route in routing.page_routes(app)
            if "GET" in (route.methods or set())
            and "{" not in route.path
            and not route.path.startswith(("/supplier", "/audit"))
            # Pages a mailed link opens: without the link's token they are the "link no longer works" page.
            and route.path not in LINK_PAGES
        }
    )


def test_every_page_honours_the_signal(app: FastAPI, browser: TestClient) -> None:
    paths = _consumer_pages(app)
    assert {"/", "/profile", "/consents", PAGE, "/log", "/rights"} <= set(paths)
    for index, path in enumerate(paths):
        browser.cookies.clear()
        sign_up(browser, f"gpc-{index}@example.org")
        response = browser.get(path, headers=GPC, follow_redirects=False)
        assert response.status_code in (200, 303), (path, response.status_code)
        assert len(_gpc_entries(browser)) == 1, path
        body = browser.get("/v1/me/consents/effective", headers=_api(browser)).json()
        assert body["gpc_recorded_at"] is not None, path


@pytest.mark.parametrize("path", ["/login", "/signup"])
def test_a_visitor_not_logged_in_has_nothing_recorded(browser: TestClient, path: str) -> None:
    assert browser.get(path, headers=GPC).status_code == 200


def test_allow_after_a_no_keeps_her_price_and_expiry_and_says_so(
    browser: TestClient, runtime: Runtime
) -> None:
    supplier = make_supplier(runtime, name="Acme Books")
    publish(browser, supplier, ["marketing"], ["health"])
    sign_up(browser)
    until = "2099-06-30T12:00:00Z"
    body = {
        "supplier_id": supplier.owner_id,
        "purpose": "marketing",
        "category": "health",
        "decision": "grant",
    }
    granted = browser.post(
        "/v1/me/consents", json={**body, "price": 7, "expires_at": until}, headers=_api(browser)
    )
    assert granted.status_code == 201, granted.text
    # A "no" in one click withdraws the yes; the cell then offers "Allow", and says what it keeps.
    _click(browser, browser.get(PAGE), supplier, "marketing", "health")
    cell = _api_cell(browser, supplier, "marketing", "health")
    assert cell["reason"] == "consent_withdrawn"
    assert (cell["allow_keeps_price"], cell["allow_keeps_until"]) == (7, until)
    td = _td(browser.get(PAGE), supplier, "marketing", "health")
    assert 'value="allow"' in td and "at your price of 7 credits" in td and "until 30 June 2099" in td
    _click(browser, browser.get(PAGE), supplier, "marketing", "health")
    [record] = browser.get("/v1/me/consents", headers=_api(browser)).json()["items"]
    assert (record["state"], record["price"], record["expires_at"]) == ("given", 7, until)
    after = _api_cell(browser, supplier, "marketing", "health")
    assert after["reason"] == "price_too_low" and after["allow_keeps_price"] is None
