"""The complete export (issue 19): a customer who has done everything downloads one document that holds every
section, agrees with what the API's own routes answer for the same things, validates against the JSON Schema
published with it, proves every log entry against the signed tree head it carries, and names nobody else."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import jsonschema_rs
import jwt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from infomediary.customers.models import Customer
from infomediary.policylog.checkpoint import open_checkpoint
from infomediary.policylog.entry import decode_entry
from infomediary.policylog.merkle import leaf_hash
from infomediary.policylog.proof_verification import verify_inclusion
from infomediary.policylog.service import log_pseudonym
from infomediary.portability import export, sections
from infomediary.portability import repository as portability_rows
from infomediary.portability.published import SCHEMA_FILE
from infomediary.runtime import Runtime
from tests.fixtures.actors import Client, Consumer, make_consumer, make_supplier
from tests.fixtures.audiences import PROFILE
from tests.fixtures.consents import grant, later, pseudonym_for, publish
from tests.fixtures.offers import body as offer_body
from tests.fixtures.offers import exact_offers, received_offers, sent

SCHEMA_URL = "http://127.0.0.1:8000/v1/schemas/export-v2.json"
# The slices' minimum k (the default): Ada, Bea and K - 1 others make K + 1 customers alike.
K = 5
WOMEN = {"eq": ["gender", "female"]}
SLICE = {"purpose": "marketing", "fields": ["birth_date", "postal_code", "gender", "interests"]}


@pytest.fixture
def app(runtime: Runtime) -> Iterator[FastAPI]:
    # Exact counts and offer statistics over a handful of customers, and a tree head signed whenever the log
    # grew: every entry of the export then has a proof against the head it carries.
    with exact_offers(runtime, audience_epsilon=100.0, log_tree_head_interval_seconds=0) as exact:
        yield create_app(runtime=exact)


@dataclass
class World:
    ada: Consumer
    bea: Consumer
    others: list[Consumer]
    shop: Client  # her consents, her stable pseudonym, offers and requests
    analyst: Client  # a slice she was in, an audience count that charged her privacy loss
    accepted_offer: str = ""
    dismissed_offer: str = ""
    voucher_code: str = ""
    answered: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Identifiers of Bea's that must never appear in Ada's export.
    bea_marks: set[str] = field(default_factory=set)


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def _request(http: TestClient, shop: Client, pseudonym: str, categories: list[str], price: int) -> str:
    body = {
        "pseudonym": pseudonym,
        "purpose": "marketing",
        "categories": categories,
        "price_offered": price,
        "expires_at": later(),
    }
    return str(_ok(http.post("/v1/requests", json=body, headers=shop.headers(http)), 201)["id"])


def _everything(http: TestClient, runtime: Runtime) -> World:
    """Ada does everything a customer can; Bea and the others do enough to be in the same records."""
    ada, bea = make_consumer(http), make_consumer(http)
    others = [make_consumer(http) for _ in range(K - 1)]
    for who, name in ((ada, "Ada"), (bea, "Beatrix"), *((o, "Zelda") for o in others)):
        _ok(http.patch("/v1/me/profile", json={**PROFILE, "given_name": name}, headers=who.headers))
    _ok(http.patch("/v1/me/profile", json={"family_name": "Lovelace"}, headers=ada.headers))
    _ok(http.patch("/v1/me/profile", json={"family_name": "King"}, headers=ada.headers))
    at = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    records = [
        {"kind": "view", "occurred_at": at, "item": "sku:bike"},
        {"kind": "search", "occurred_at": at, "query": "city bike"},
        {
            "kind": "purchase",
            "occurred_at": at,
            "amount": 45_000,
            "currency": "EUR",
            "items": [{"item": "sku:bike"}],
        },
    ]
    _ok(http.post("/v1/me/activity", json={"records": records}, headers=ada.headers), 201)
    # Restriction toggled (before the count below: while restricted she is in no audience).
    _ok(http.post("/v1/me/restriction", headers=ada.headers))
    _ok(http.delete("/v1/me/restriction", headers=ada.headers))

    world = World(ada, bea, others, make_supplier(runtime, "Cycle shop"), make_supplier(runtime, "Analyst"))
    shop, analyst = world.shop, world.analyst
    publish(
        http,
        shop,
        ["marketing"],
        ["identity", "contact", "demographics", "interests", "purchases", "activity"],
    )
    publish(http, analyst, ["marketing"], ["identity", "contact", "demographics", "interests", "finances"])

    # Consents granted, withdrawn and refused, each with its receipt; standing terms.
    _ok(grant(http, ada, shop.owner_id, "marketing", "demographics"), 201)
    withdrawn = _ok(grant(http, ada, shop.owner_id, "marketing", "purchases"), 201)["consent"]["id"]
    _ok(http.post(f"/v1/me/consents/{withdrawn}/withdraw", headers=ada.headers))
    refusal = {
        "supplier_id": "*",
        "purpose": "sell_data_to_third_parties",
        "category": "*",
        "decision": "refuse",
    }
    _ok(http.post("/v1/me/consents", json=refusal, headers=ada.headers), 201)
    terms = [
        {"kind": "never_category", "category": "health"},
        {"kind": "min_price", "credits": 3, "category": "finances"},
    ]
    _ok(http.put("/v1/me/terms", json={"terms": terms}, headers=ada.headers))
    bea_consent = _ok(grant(http, bea, shop.owner_id, "marketing", "demographics"), 201)
    world.bea_marks |= {bea_consent["consent"]["id"], bea_consent["receipt_id"]}

    # Stable pseudonyms handed over, and requests under them: one accepted, one refused, one left pending.
    mine, hers = pseudonym_for(http, ada, shop), pseudonym_for(http, bea, shop)
    world.bea_marks.add(hers)
    accepted = _request(http, shop, mine, ["interests"], 4)
    refused = _request(http, shop, mine, ["activity"], 0)
    _request(http, shop, mine, ["purchases"], 2)
    world.bea_marks.add(_request(http, shop, hers, ["interests"], 4))
    world.answered[accepted] = _ok(http.post(f"/v1/me/inbox/{accepted}/accept", headers=ada.headers))["item"]
    world.answered[refused] = _ok(http.post(f"/v1/me/inbox/{refused}/refuse", headers=ada.headers))["item"]

    # Offers: one accepted with her identity released (and rewarded), one dismissed.
    identity = sent(http, shop, offer_body(releases_identity=True))["id"]
    dismissed = sent(http, shop, offer_body(content="Winter tyres"))["id"]
    world.accepted_offer, world.dismissed_offer = identity, dismissed
    assert {o["id"] for o in received_offers(http, ada)} == {identity, dismissed}
    _ok(http.post(f"/v1/me/offers/{identity}/view", headers=ada.headers))
    confirm = {"release_identity": True, "password": ada.password}
    _ok(http.post(f"/v1/me/offers/{identity}/accept", json=confirm, headers=ada.headers))
    _ok(
        http.post(
            f"/v1/me/offers/{identity}/accept",
            json={"release_identity": True, "password": bea.password},
            headers=bea.headers,
        )
    )
    assert http.post(f"/v1/me/offers/{dismissed}/dismiss", headers=ada.headers).status_code == 204

    # A credit of her rewards spent as a voucher for the shop.
    voucher = http.post(
        "/v1/me/vouchers",
        json={"supplier_id": shop.owner_id, "value": 1},
        headers={**ada.headers, "Idempotency-Key": "export-voucher"},
    )
    world.voucher_code = _ok(voucher, 201)["code"]

    # A paid slice she was in, and an audience count that charged her privacy loss.
    paid = {**SLICE, "max_price_per_customer": 1}
    headers = {**analyst.headers(http), "Idempotency-Key": secrets.token_hex(8)}
    response = http.post("/v1/slices", json=paid, headers=headers)
    assert response.status_code == 200, response.text
    assert int(response.headers["slice-count"]) == K + 1
    count = {"purpose": "marketing", "predicate": WOMEN}
    assert _ok(http.post("/v1/audiences/count", json=count, headers=analyst.headers(http)))["count"] == K + 1

    # Her browser's Global Privacy Control signal, on any consumer request.
    _ok(http.get("/v1/me", headers={**ada.headers, "Sec-GPC": "1"}))
    return world


def _all(http: TestClient, path: str, headers: dict[str, str], items: str) -> list[Any]:
    """Every item of a paged consumer route, small pages at a time."""
    found: list[Any] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = _ok(http.get(path, params=params, headers=headers))
        found += page[items]
        cursor = page["next_cursor"]
        if not cursor:
            return found


def _export(http: TestClient, consumer: Consumer) -> tuple[bytes, dict[str, Any]]:
    with http.stream("GET", "/v1/me/export", headers=consumer.headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")
        body = b"".join(response.iter_bytes())
    return body, json.loads(body)


def _verified_receipt(token: str, jwks: dict[str, Any]) -> dict[str, Any]:
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256" and header["typ"] == "consent-receipt+jwt"
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    return dict(jwt.decode(token, jwt.PyJWK(key).key, algorithms=["ES256"]))


def test_the_export_holds_everything_the_api_shows_and_nothing_of_anyone_else(
    http: TestClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = _everything(http, runtime)
    ada = world.ada
    headers = ada.headers
    # What the API's own routes answer, read first: the inbox of offers may deliver (and log) late matches.
    open_offers = received_offers(http, ada)
    api = {
        "me": _ok(http.get("/v1/me", headers=headers)),
        "restriction": _ok(http.get("/v1/me/restriction", headers=headers)),
        "profile": _ok(http.get("/v1/me/profile", headers=headers))["fields"],
        "insights": _ok(http.get("/v1/me/insights", headers=headers)),
        "history": _all(http, "/v1/me/profile/history", headers, "items"),
        "activity": _all(http, "/v1/me/activity", headers, "items"),
        "consents": _all(http, "/v1/me/consents", headers, "items"),
        "terms": _ok(http.get("/v1/me/terms", headers=headers))["terms"],
        "pseudonyms": _ok(http.get("/v1/me/pseudonyms", headers=headers))["pseudonyms"],
        "rewards": _ok(http.get("/v1/me/rewards", params={"limit": 200}, headers=headers)),
        "postings": _all(http, "/v1/me/rewards", headers, "postings"),
        "vouchers": _all(http, "/v1/me/vouchers", headers, "items"),
        "inbox": _all(http, "/v1/me/inbox", headers, "items"),
        "privacy_loss": _ok(http.get("/v1/me/privacy-loss", headers=headers)),
        "jwks": _ok(http.get("/.well-known/jwks.json")),
        "log_key": _ok(http.get("/.well-known/policy-log-key")),
    }
    text, document = _export(http, ada)
    log_pages = _all(http, "/v1/me/log", headers, "entries")
    log_head = _ok(http.get("/v1/me/log", params={"limit": 1}, headers=headers))["tree_head"]

    # The format, and the schema it names: published, valid draft 2020-12, and the document valid against it.
    served = http.get("/v1/schemas/export-v2.json")
    assert served.status_code == 200 and served.headers["content-type"].startswith("application/schema+json")
    schema = served.json()
    assert document["$schema"] == schema["$id"] == SCHEMA_URL
    assert document["format"] == "infomediary.export/v2"
    jsonschema_rs.meta.validate(schema)
    validator = jsonschema_rs.Draft202012Validator(schema, validate_formats=True)
    assert [e.message for e in validator.iter_errors(document)] == []
    assert list(document) == list(schema["properties"])

    # Account, vault and rights.
    assert document["account"] == {"id": api["me"]["id"], "created_at": api["me"]["created_at"]}
    assert document["account"]["id"] == ada.shown_id
    assert document["restriction"] == api["restriction"] == {"restricted": False, "since": None}
    assert document["privacy_signal"]["gpc"] is True and document["privacy_signal"]["recorded_at"]
    assert document["profile"] == [f for f in api["profile"] if f["value"] is not None]
    assert {f["key"]: f["value"] for f in document["profile"]}["family_name"] == "King"
    assert document["derived"] == api["insights"] and document["derived"]["frequency"] == 1
    assert document["history"] == api["history"] and len(document["history"]) >= 7
    assert document["activity"] == api["activity"] and len(document["activity"]) == 3

    # Consents with every event and the receipt each was issued, as the consent routes show them.
    assert [c["id"] for c in document["consents"]] == [c["id"] for c in api["consents"]]
    states = set()
    for exported, shown in zip(document["consents"], api["consents"], strict=True):
        supplier = shown["supplier"]
        assert exported["supplier"] == (
            None if supplier is None else {"id": supplier["id"], "name": supplier["name"]}
        )
        assert exported["purpose"] == shown["purpose"]["key"]
        assert exported["category"] == (shown["category"] or {}).get("key")
        for key in ("state", "expires_at", "price", "policy_version", "created_at", "updated_at"):
            assert exported[key] == shown[key], key
        states.add(exported["state"])
        events = _ok(http.get(f"/v1/me/consents/{exported['id']}/events", headers=headers))
        assert [{k: v for k, v in e.items() if k != "receipt"} for e in exported["events"]] == events
        receipts = [e for e in exported["events"] if e["receipt"]]
        latest = _ok(http.get(f"/v1/me/consents/{exported['id']}/receipt", headers=headers))
        assert (receipts[-1]["receipt_id"], receipts[-1]["receipt"]) == (
            latest["receipt_id"],
            latest["receipt"],
        )
        for event in receipts:
            claims = _verified_receipt(event["receipt"], api["jwks"])
            assert claims["jti"] == event["receipt_id"] and exported["id"] in claims["consentRecordIDs"]
    assert {"given", "withdrawn", "refused"} <= states
    assert document["standing_terms"] == api["terms"] and len(api["terms"]) == 2

    # Pseudonyms: the stable one handed over as the API lists it, and what each supplier was allowed.
    holders = {p["supplier"]["id"]: p for p in document["pseudonyms"]}
    assert [
        {
            "supplier_id": p["supplier"]["id"],
            "supplier_name": p["supplier"]["name"],
            "pseudonym": p["pseudonym"],
            "issued_at": p["handed_over_at"],
        }
        for p in document["pseudonyms"]
        if p["pseudonym"]
    ] == api["pseudonyms"]
    assert holders[world.shop.owner_id]["pseudonym"] is not None
    assert holders[world.analyst.owner_id]["pseudonym"] is None  # a slice's pseudonym is not kept
    shop_kinds = {r["release_kind"] for r in holders[world.shop.owner_id]["permitted"]}
    assert "identity_release" in shop_kinds
    analyst_kinds = {r["release_kind"] for r in holders[world.analyst.owner_id]["permitted"]}
    assert "pseudonymous_slice" in analyst_kinds
    entries = {e["leaf_index"]: e for e in document["log"]["entries"]}
    for holder in document["pseudonyms"]:
        for release in holder["permitted"]:
            logged = entries[release["leaf_index"]]
            assert (logged["kind"], logged["decision"]) == ("decision", "permit")
            assert logged["supplier_id"] == holder["supplier"]["id"] and logged["at"] == release["at"]

    # Rewards, as the rewards route pages them.
    assert document["rewards"]["balance"] == api["rewards"]["balance"] > 0
    assert document["rewards"]["postings"] == api["postings"]
    assert {"view_reward", "acceptance_reward", "data_release"} <= {p["kind"] for p in api["postings"]}
    assert "voucher_issued" in {p["kind"] for p in api["postings"]}
    # Her vouchers as their route pages them, without the code: an exported file holds no cash.
    shown_vouchers = api["vouchers"]
    assert [v["code"] for v in shown_vouchers] == [world.voucher_code]
    assert document["rewards"]["vouchers"] == [
        {
            "id": v["id"],
            "supplier": {"id": v["supplier_id"], "name": v["supplier_name"]},
            **{k: v[k] for k in ("value", "expires_at", "state", "redeemed_at", "refunded_at")},
        }
        for v in shown_vouchers
    ]
    assert world.voucher_code.encode() not in text

    # Offers: the open ones as the inbox shows them, and the dismissed one that the inbox no longer shows.
    offers = {o["id"]: o for o in document["offers"]}
    assert set(offers) == {world.accepted_offer, world.dismissed_offer}
    assert [o["id"] for o in open_offers] == [world.accepted_offer]
    for shown in open_offers:
        exported = offers[shown["id"]]
        assert exported["supplier"] == {"id": shown["supplier_id"], "name": shown["supplier_name"]}
        assert exported["rule"] == {k: v for k, v in shown["rule"].items() if k != "summary"}
        for key in (
            "content",
            "purpose",
            "reward_per_view",
            "reward_per_acceptance",
            "releases_identity",
            "expires_at",
            "state",
            "delivered_at",
            "viewed_at",
            "accepted_at",
        ):
            assert exported[key] == shown[key], key
    assert offers[world.accepted_offer]["identity_released"] is True
    assert offers[world.dismissed_offer]["state"] == "dismissed"

    # Requests: the pending one as the inbox shows it, the answered ones as their answers did.
    requests = {r["id"]: r for r in document["requests"]}
    assert len(requests) == 3
    for shown in [*api["inbox"], *world.answered.values()]:
        exported = requests[shown["id"]]
        assert exported["supplier"] == {"id": shown["supplier"]["id"], "name": shown["supplier"]["name"]}
        assert exported["purpose"] == shown["purpose"]["key"]
        assert exported["categories"] == [c["key"] for c in shown["categories"]]
        for key in ("origin", "release_kind", "price_offered", "expires_at", "status", "created_at"):
            assert exported[key] == shown[key], key
    assert sorted(r["status"] for r in requests.values()) == ["accepted", "pending", "refused"]

    # Privacy loss, as her account shows it.
    loss = dict(api["privacy_loss"])
    by_supplier = loss.pop("by_supplier")
    assert {k: document["privacy_loss"][k] for k in loss} == loss and loss["epsilon_spent"] > 0
    assert [
        {"supplier_id": s["supplier"]["id"], "supplier_name": s["supplier"]["name"], **s}
        for s in document["privacy_loss"]["by_supplier"]
    ] == [{**s, "supplier": {"id": s["supplier_id"], "name": s["supplier_name"]}} for s in by_supplier]

    # The log: every entry about her as `/v1/me/log` pages it, each proved against the signed head.
    log = document["log"]
    assert log["entries"] == log_pages and log["tree_head"] == log_head
    assert (log["origin"], log["verifier_key"]) == (api["log_key"]["origin"], api["log_key"]["verifier_key"])
    head = open_checkpoint(log["tree_head"]["checkpoint"], log["verifier_key"], log["origin"])
    assert head.size == log["tree_head"]["tree_size"]
    assert base64.b64encode(head.root_hash).decode() == log["tree_head"]["sha256_root_hash"]
    subject = log_pseudonym(runtime, ada.id)
    kinds = set()
    for entry in log["entries"]:
        raw = base64.b64decode(entry["leaf_input"])
        assert entry["audit_path"] is not None, entry
        path = [base64.b64decode(p) for p in entry["audit_path"]]
        verify_inclusion(leaf_hash(raw), entry["leaf_index"], head.size, path, head.root_hash)
        decoded = decode_entry(raw)
        assert decoded["subject"] == subject
        kinds.add(decoded["kind"])
    assert {"consent.granted", "consent.withdrawn", "consent.refused", "decision", "terms.changed"} <= kinds

    # Nobody else: none of the other customers' names, ids or pseudonyms, and no internal subject id at all.
    bea = world.bea
    marks = set(world.bea_marks) | {bea.shown_id, bea.email, "Beatrix", log_pseudonym(runtime, bea.id)}
    for other in world.others:
        marks |= {other.shown_id, other.email, log_pseudonym(runtime, other.id)}
    with runtime.read_session_factory() as session:
        marks |= set(session.scalars(select(Customer.id)))
    body = text.decode()
    assert ada.id in marks and all(len(mark) >= 7 for mark in marks)
    assert [mark for mark in marks if mark in body] == []

    # The same document, read two rows at a time: every large section pages, and pages the same way.
    monkeypatch.setattr(sections, "PAGE", 2)
    pages: list[int] = []
    read_page = export._read_page

    def counted(*args: Any) -> Any:
        rows, cursor = read_page(*args)
        pages.append(len(rows))
        return rows, cursor

    monkeypatch.setattr(export, "_read_page", counted)
    _, paged = _export(http, ada)
    assert {**paged, "exported_at": None} == {**document, "exported_at": None}
    assert max(pages) == 2 and len(pages) > len(log["entries"]) // 2


def test_the_schema_is_served_as_kept_in_the_package(http: TestClient) -> None:
    stored = json.loads(resources.files("infomediary.portability").joinpath(SCHEMA_FILE).read_text())
    served = _ok(http.get("/v1/schemas/export-v2.json"))
    assert served == {"$id": SCHEMA_URL, **stored}
    assert "not stored by design" in served["properties"]["pseudonyms"]["description"]
    jsonschema_rs.meta.validate(served)


def test_a_new_customer_exports_a_valid_document_with_empty_sections(http: TestClient) -> None:
    consumer = make_consumer(http)
    _, document = _export(http, consumer)
    schema = _ok(http.get("/v1/schemas/export-v2.json"))
    assert list(jsonschema_rs.Draft202012Validator(schema, validate_formats=True).iter_errors(document)) == []
    assert document["account"]["id"] == consumer.shown_id
    for key in ("consents", "standing_terms", "pseudonyms", "offers", "requests"):
        assert document[key] == [], key
    assert document["rewards"] == {"balance": 0, "postings": [], "vouchers": []}
    assert [e["kind"] for e in document["log"]["entries"]] == ["account.registered"]


def test_the_export_and_its_schema_need_what_they_say(http: TestClient) -> None:
    assert http.get("/v1/me/export").status_code == 401
    assert http.get("/v1/schemas/export-v2.json").status_code == 200


def test_an_export_that_cannot_be_read_is_a_problem_before_the_stream(
    http: TestClient, runtime: Runtime
) -> None:
    """Her rows are back (a backup restored after her erasure) but her erasure key is not: the export fails
    before its first byte, as a problem, instead of a 200 cut short."""
    consumer = make_consumer(http)
    _ok(http.patch("/v1/me/profile", json={"given_name": "Ada"}, headers=consumer.headers))
    runtime.vault.shred(consumer.id)
    response = http.get("/v1/me/export", headers=consumer.headers)
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("invalid-session") and "Ada" not in response.text


def test_a_consent_with_more_events_than_a_page_exports_them_all_in_order(
    http: TestClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    consumer = make_consumer(http)
    shop = make_supplier(runtime)
    publish(http, shop, ["marketing"], ["interests", "health"])
    # Health toggled: nine events, more than four pages of two; interests once; every kind of data refused.
    toggled = _ok(grant(http, consumer, shop.owner_id, "marketing", "health"), 201)["consent"]["id"]
    for _ in range(4):
        _ok(http.post(f"/v1/me/consents/{toggled}/withdraw", headers=consumer.headers))
        _ok(grant(http, consumer, shop.owner_id, "marketing", "health"), 201)
    _ok(grant(http, consumer, shop.owner_id, "marketing", "interests"), 201)
    _ok(grant(http, consumer, shop.owner_id, "marketing", "*", decision="refuse"), 201)
    _, whole = _export(http, consumer)

    monkeypatch.setattr(sections, "PAGE", 2)
    event_pages: list[int] = []
    events_page = portability_rows.consent_events_page

    def counted(*args: Any, **kwargs: Any) -> Any:
        rows = events_page(*args, **kwargs)
        event_pages.append(len(rows))
        return rows

    monkeypatch.setattr(portability_rows, "consent_events_page", counted)
    _, paged = _export(http, consumer)
    assert {**paged, "exported_at": None} == {**whole, "exported_at": None}
    # Never more than a page of events in hand: the toggled record's nine came in pages of two.
    assert max(event_pages) == 2 and len(event_pages) >= 6
    schema = _ok(http.get("/v1/schemas/export-v2.json"))
    assert list(jsonschema_rs.Draft202012Validator(schema, validate_formats=True).iter_errors(paged)) == []
    records = {record["id"]: record for record in paged["consents"]}
    assert len(records) == 3 and len(records[toggled]["events"]) == 9
    for record_id, record in records.items():
        listed = _ok(http.get(f"/v1/me/consents/{record_id}/events", headers=consumer.headers))
        exported = [(e["from_state"], e["to_state"], e["receipt_id"]) for e in record["events"]]
        assert exported == [(e["from_state"], e["to_state"], e["receipt_id"]) for e in listed]
    assert [e["to_state"] for e in records[toggled]["events"]] == ["given", "withdrawn"] * 4 + ["given"]
