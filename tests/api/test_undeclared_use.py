"""Asking beyond the published policy, on every brokered route a supplier calls: counts, audience
recommendations, slices, offers and per-customer recommendations answer exactly like a request does: 403
`undeclared-use`, the denial logged, one strike recorded as the broker's own (never an auditor's), and
nothing else left behind (no answer, no budget spent, no release)."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from fastapi.testclient import TestClient

from infomediary.runtime import Runtime
from tests.fixtures.actors import Client, make_auditor, make_consumer, make_supplier
from tests.fixtures.consents import pseudonym_for, publish
from tests.fixtures.offers import body as offer_body

# Declared: marketing over demographics, contact and identity; never interests, never personalisation.
DECLARED = ["demographics", "contact", "identity"]
CYCLISTS = {"eq": ["interest", "cycling"]}
WOMEN = {"eq": ["gender", "female"]}


def _count(http: TestClient, supplier: Client) -> Any:
    body = {"purpose": "marketing", "predicate": CYCLISTS}
    return http.post("/v1/audiences/count", json=body, headers=supplier.headers(http))


def _count_undeclared_purpose(http: TestClient, supplier: Client) -> Any:
    body = {"purpose": "research_and_development", "predicate": WOMEN}
    return http.post("/v1/audiences/count", json=body, headers=supplier.headers(http))


def _slice(http: TestClient, supplier: Client) -> Any:
    body = {"purpose": "marketing", "fields": ["gender", "interests"]}
    return http.post("/v1/slices", json=body, headers=supplier.headers(http))


def _offer(http: TestClient, supplier: Client) -> Any:
    headers = {**supplier.headers(http), "Idempotency-Key": secrets.token_hex(8)}
    return http.post("/v1/offers", json=offer_body(predicate=CYCLISTS), headers=headers)


def _audience_items(http: TestClient, supplier: Client) -> Any:
    body = {"predicate": WOMEN, "n": 5}
    return http.post("/v1/recommendations/audience", json=body, headers=supplier.headers(http))


def _recommend(http: TestClient, supplier: Client) -> Any:
    pseudonym = pseudonym_for(http, make_consumer(http), supplier)
    return http.get(f"/v1/recommendations/{pseudonym}", headers=supplier.headers(http))


ASKS = {
    "count-undeclared-category": (_count, "marketing", None, ["interests"]),
    "count-undeclared-purpose": (
        _count_undeclared_purpose,
        "research_and_development",
        "research_and_development",
        [],
    ),
    "slice": (_slice, "marketing", None, ["interests"]),
    "offer": (_offer, "marketing", None, ["interests"]),
    "audience-recommendation": (_audience_items, "personalisation", "personalisation", []),
    "recommendation": (_recommend, "personalisation", "personalisation", []),
}


def _log(http: TestClient, auditor: Client, supplier: Client) -> list[dict[str, Any]]:
    response = http.get(
        "/v1/audit/log", params={"supplier_id": supplier.owner_id}, headers=auditor.headers(http)
    )
    assert response.status_code == 200, response.text
    return list(response.json()["entries"])


@pytest.mark.parametrize("ask", sorted(ASKS))
def test_an_undeclared_ask_is_refused_logged_and_struck_by_the_system(
    http: TestClient, runtime: Runtime, ask: str
) -> None:
    call, purpose, undeclared_purpose, undeclared_categories = ASKS[ask]
    supplier = make_supplier(runtime)
    auditor = make_auditor(runtime)
    publish(http, supplier, ["marketing"], DECLARED)
    before = http.get("/v1/supplier", headers=supplier.headers(http)).json()
    logged_before = _log(http, auditor, supplier)

    refused = call(http, supplier)

    assert refused.status_code == 403, refused.text
    problem = refused.json()
    assert problem["type"].endswith("/undeclared-use")
    assert problem["undeclared_purpose"] == undeclared_purpose
    assert problem["undeclared_categories"] == undeclared_categories
    after = http.get("/v1/supplier", headers=supplier.headers(http)).json()
    assert after["strikes"] == before["strikes"] + 1 and after["status"] == "warned"
    # Nothing of the refused request survives: no budget spent, no answer, nothing released.
    assert after["epsilon_remaining"] == before["epsilon_remaining"]
    assert http.get("/v1/offers", headers=supplier.headers(http)).json()["offers"] == []
    new = _log(http, auditor, supplier)[: -len(logged_before) or None]
    assert sorted(e["kind"] for e in new) == ["decision", "sanction.recorded", "supplier.status_changed"]
    [denial] = [e for e in new if e["kind"] == "decision"]
    assert denial["decision"] == "deny" and denial["purpose"] == purpose
    [strike] = [e for e in new if e["kind"] == "sanction.recorded"]
    assert "the broker's automatic checks struck" in strike["text"]
    assert "auditor" not in strike["text"]


def test_the_strike_is_the_systems_while_an_auditors_sanction_still_names_an_auditor(
    http: TestClient, runtime: Runtime
) -> None:
    supplier = make_supplier(runtime)
    auditor = make_auditor(runtime)
    publish(http, supplier, ["marketing"], DECLARED)
    assert _count(http, supplier).status_code == 403
    sanction = {"supplier_id": supplier.owner_id, "kind": "strike", "reason": "late deletion"}
    assert http.post("/v1/audit/sanctions", json=sanction, headers=auditor.headers(http)).status_code == 201
    texts = [e["text"] for e in _log(http, auditor, supplier) if e["kind"] == "sanction.recorded"]
    assert len(texts) == 2
    assert "an auditor sanctioned" in texts[0] and "late deletion" in texts[0]
    assert "the broker's automatic checks struck" in texts[1]


def test_a_declared_ask_is_answered_and_costs_no_strike(http: TestClient, runtime: Runtime) -> None:
    supplier = make_supplier(runtime)
    publish(http, supplier, ["marketing"], DECLARED)
    body = {"purpose": "marketing", "predicate": WOMEN}
    assert http.post("/v1/audiences/count", json=body, headers=supplier.headers(http)).status_code == 200
    assert http.get("/v1/supplier", headers=supplier.headers(http)).json()["strikes"] == 0


def test_without_a_policy_a_count_is_told_to_publish_one_and_not_struck(
    http: TestClient, runtime: Runtime
) -> None:
    supplier = make_supplier(runtime)
    refused = http.post(
        "/v1/audiences/count",
        json={"purpose": "marketing", "predicate": WOMEN},
        headers=supplier.headers(http),
    )
    assert refused.status_code == 409 and refused.json()["type"].endswith("/supplier-policy-required")
    assert http.get("/v1/supplier", headers=supplier.headers(http)).json()["strikes"] == 0
