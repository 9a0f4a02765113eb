"""Issue 20, relay addresses: one per customer and supplier, made when the supplier is first allowed to
contact her (an accepted offer, an accepted request, her own grant of direct marketing or service messages),
logged on her log, switched off and on in one click; an encryption that opens to nobody once she is erased."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from infomediary.aliases import service as aliases
from infomediary.policylog import kinds
from infomediary.runtime import Runtime
from tests.fixtures.actors import Consumer, erase, make_consumer, make_supplier
from tests.fixtures.consents import grant, later, pseudonym_for, publish
from tests.fixtures.offers import body, exact_offers, profiled, sent
from tests.fixtures.offers import supplier as offer_supplier


@pytest.fixture
def app(runtime: Runtime) -> Iterator[FastAPI]:
    # Offers go to the customer or two a test makes.
    with exact_offers(runtime) as exact:
        yield create_app(runtime=exact)


def _aliases(http: TestClient, consumer: Consumer) -> list[dict[str, object]]:
    response = http.get("/v1/me/aliases", headers=consumer.headers)
    assert response.status_code == 200, response.text
    return list(response.json()["aliases"])


def _created_entries(http: TestClient, consumer: Consumer) -> list[dict[str, object]]:
    log = http.get("/v1/me/log", params={"limit": 200}, headers=consumer.headers).json()
    return [e for e in log["entries"] if e["kind"] == kinds.RELAY_ALIAS_CREATED]


@pytest.mark.parametrize("purpose", ["direct_marketing", "service_messages"])
def test_her_grant_of_contact_to_one_supplier_gives_it_one_alias(
    http: TestClient, runtime: Runtime, purpose: str
) -> None:
    supplier = make_supplier(runtime, name="Acme Books")
    publish(http, supplier, ["direct_marketing", "service_messages", "marketing"], ["contact"])
    consumer = make_consumer(http)
    assert grant(http, consumer, supplier.owner_id, "marketing", "contact").status_code == 201
    assert _aliases(http, consumer) == []
    assert grant(http, consumer, supplier.owner_id, purpose, "contact").status_code == 201
    [alias] = _aliases(http, consumer)
    assert alias["supplier_id"] == supplier.owner_id and alias["supplier_name"] == "Acme Books"
    assert alias["on"] is True
    local, domain = str(alias["address"]).split("@")
    assert domain == runtime.settings.relay_domain and len(local) == 52
    # A second yes changes nothing: still one address for the supplier, made (and logged) once.
    other = "service_messages" if purpose == "direct_marketing" else "direct_marketing"
    assert grant(http, consumer, supplier.owner_id, other, "contact").status_code == 201
    assert _aliases(http, consumer) == [alias]
    [entry] = _created_entries(http, consumer)
    assert entry["supplier_id"] == supplier.owner_id and "Acme Books" in str(entry["text"])
    assert alias["address"] not in str(entry["text"])


def test_a_grant_to_every_supplier_gives_no_alias(http: TestClient) -> None:
    consumer = make_consumer(http)
    answer = http.post(
        "/v1/me/consents",
        json={"supplier_id": "*", "purpose": "direct_marketing", "category": "contact", "decision": "grant"},
        headers=consumer.headers,
    )
    assert answer.status_code == 201, answer.text
    assert _aliases(http, consumer) == []


def test_an_accepted_offer_gives_the_supplier_an_alias(http: TestClient, runtime: Runtime) -> None:
    [consumer] = profiled(http, 1, gender="female")
    supplier = offer_supplier(http, runtime)
    offer = sent(http, supplier, body())
    assert _aliases(http, consumer) == []
    accepted = http.post(f"/v1/me/offers/{offer['id']}/accept", headers=consumer.headers, json={})
    assert accepted.status_code == 200, accepted.text
    [alias] = _aliases(http, consumer)
    assert alias["supplier_id"] == supplier.owner_id
    # Another accepted offer of the same supplier: the same address.
    second = sent(http, supplier, body())
    http.post(f"/v1/me/offers/{second['id']}/accept", headers=consumer.headers, json={})
    assert _aliases(http, consumer) == [alias]


def test_an_accepted_request_gives_the_supplier_an_alias_and_a_refused_one_does_not(
    http: TestClient, runtime: Runtime
) -> None:
    consumer = make_consumer(http)
    suppliers = [make_supplier(runtime), make_supplier(runtime)]
    ids = []
    for supplier in suppliers:
        publish(http, supplier, ["marketing"], ["contact"])
        request = http.post(
            "/v1/requests",
            json={
                "pseudonym": pseudonym_for(http, consumer, supplier),
                "purpose": "marketing",
                "categories": ["contact"],
                "expires_at": later(),
            },
            headers=supplier.headers(http),
        )
        assert request.status_code == 201, request.text
        ids.append(request.json()["id"])
    assert http.post(f"/v1/me/inbox/{ids[0]}/accept", headers=consumer.headers).status_code == 200
    assert http.post(f"/v1/me/inbox/{ids[1]}/refuse", headers=consumer.headers).status_code == 200
    assert [a["supplier_id"] for a in _aliases(http, consumer)] == [suppliers[0].owner_id]


def test_switching_off_is_one_call_logged_and_only_her_own(http: TestClient, runtime: Runtime) -> None:
    supplier = make_supplier(runtime, name="Acme Books")
    publish(http, supplier, ["direct_marketing"], ["contact"])
    consumer, other = make_consumer(http), make_consumer(http)
    grant(http, consumer, supplier.owner_id, "direct_marketing", "contact")
    [alias] = _aliases(http, consumer)
    path = f"/v1/me/aliases/{alias['id']}/switch"
    assert http.post(path, json={"on": False}, headers=other.headers).status_code == 404
    off = http.post(path, json={"on": False}, headers=consumer.headers)
    assert off.status_code == 200 and off.json()["on"] is False and off.json()["switched_off_at"]
    with runtime.read_session_factory() as session:
        found = aliases.resolve(session, runtime, str(alias["address"]))
    assert found is not None and not found.on
    log = http.get("/v1/me/log", params={"limit": 200}, headers=consumer.headers).json()
    [switched] = [e for e in log["entries"] if e["kind"] == kinds.RELAY_ALIAS_SWITCHED]
    assert "switched off" in switched["text"]


def test_an_alias_opens_to_her_and_to_nobody_after_her_erasure(http: TestClient, runtime: Runtime) -> None:
    supplier = make_supplier(runtime)
    publish(http, supplier, ["direct_marketing"], ["contact"])
    consumer = make_consumer(http)
    grant(http, consumer, supplier.owner_id, "direct_marketing", "contact")
    [alias] = _aliases(http, consumer)
    address = str(alias["address"])
    with runtime.read_session_factory() as session:
        found = aliases.resolve(session, runtime, address.upper())
        assert found is not None and (found.customer_id, found.supplier_id) == (
            consumer.id,
            supplier.owner_id,
        )
        # One character changed: not an address the relay made.
        flipped = ("b" if address[0] == "a" else "a") + address[1:]
        assert aliases.resolve(session, runtime, flipped) is None
    assert erase(http, consumer.headers).status_code == 200
    with runtime.read_session_factory() as session:
        assert aliases.resolve(session, runtime, address) is None
