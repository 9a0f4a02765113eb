"""Business-event webhooks through HTTP: who may manage endpoints, per-object authorization, URL refusals,
events only for consenting customers under the receiver's own pseudonym, Standard Webhooks signatures checked
by an implementation written here from the specification, bounded retries, and withdrawal in force at once."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import socket
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from infomediary.database import unit_of_work
from infomediary.policylog.models import PolicyLogEntry
from infomediary.runtime import Runtime
from infomediary.sanctions import status as supplier_status
from infomediary.suppliers.models import SupplierStatus
from infomediary.webhooks.delivery import deliver_due, new_client
from infomediary.webhooks.models import WebhookDeliveryRow, WebhookEndpointRow
from tests.fixtures.actors import Client, Consumer, make_auditor, make_consumer, make_supplier
from tests.fixtures.audiences import PROFILE
from tests.fixtures.consents import grant, later, pseudonym_for, publish
from tests.fixtures.network import Dns, loopback_only, loopback_receiver
from tests.fixtures.runtimes import reconfigured

HOOK = "http://127.0.0.1:9/hooks"
MAX_ATTEMPTS = 3
MAX_ENDPOINTS = 3


@pytest.fixture
def events_runtime(runtime: Runtime) -> Runtime:
    """The same database and keys, with loopback endpoints allowed, retries due at once, offers to one."""
    return reconfigured(
        runtime,
        webhook_allow_loopback=True,
        webhook_max_attempts=MAX_ATTEMPTS,
        webhook_max_endpoints=MAX_ENDPOINTS,
        webhook_backoff_base_seconds=0,
        # The offers here go to the one customer a test makes: no minimum audience at sending.
        audience_min_cohort=0,
    )


@pytest.fixture
def app(events_runtime: Runtime) -> FastAPI:
    return create_app(runtime=events_runtime)


@dataclass
class Receiver:
    """An httpx MockTransport standing in for the supplier's server: records requests, answers `statuses`."""

    statuses: list[int] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.statuses.pop(0) if self.statuses else 204)

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]


def deliver(runtime: Runtime, receiver: Receiver, passes: int = 1) -> None:
    with new_client(runtime.settings, httpx.MockTransport(receiver.handle)) as client:
        for _ in range(passes):
            deliver_due(runtime, client)


def verify(secret: str, request: httpx.Request, tolerance: int = 300) -> bool:
    """Standard Webhooks verification, written from the specification (not the code under test)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    msg_id = request.headers["webhook-id"]
    timestamp = request.headers["webhook-timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance:
        return False
    expected = hmac.new(key, f"{msg_id}.{timestamp}.{request.content.decode()}".encode(), hashlib.sha256)
    wanted = base64.b64encode(expected.digest()).decode()
    for candidate in request.headers["webhook-signature"].split(" "):
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value, wanted):
            return True
    return False


def _register(http: TestClient, supplier: Client, types: list[str], url: str = HOOK) -> dict[str, Any]:
    response = http.post(
        "/v1/supplier/webhooks", json={"url": url, "event_types": types}, headers=supplier.headers(http)
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def _supplier(http: TestClient, runtime: Runtime) -> Client:
    supplier = make_supplier(runtime)
    publish(http, supplier, ["marketing"], ["demographics", "activity", "purchases", "interests"])
    return supplier


def _customer(http: TestClient) -> Consumer:
    consumer = make_consumer(http)
    assert http.patch("/v1/me/profile", json=PROFILE, headers=consumer.headers).status_code == 200
    return consumer


def _granted(http: TestClient, consumer: Consumer, supplier: Client, category: str) -> str:
    response = grant(http, consumer, supplier.owner_id, "marketing", category)
    assert response.status_code in (200, 201), response.text
    return str(response.json()["consent"]["id"])


def _accepted_offer(http: TestClient, supplier: Client, consumer: Consumer) -> str:
    body = {
        "content": "Spring sale on city bikes",
        "purpose": "marketing",
        "predicate": {"eq": ["gender", "female"]},
        "reward_per_view": 1,
        "reward_per_acceptance": 2,
        "budget_cap": 100,
        "expires_at": later(),
    }
    headers = {**supplier.headers(http), "Idempotency-Key": secrets.token_hex(8)}
    sent = http.post("/v1/offers", json=body, headers=headers)
    assert sent.status_code == 201, sent.text
    offer_id = str(sent.json()["id"])
    accepted = http.post(f"/v1/me/offers/{offer_id}/accept", headers=consumer.headers, json={})
    assert accepted.status_code == 200, accepted.text
    return offer_id


def _purchase(http: TestClient, consumer: Consumer, amount: int) -> None:
    record = {
        "kind": "purchase",
        "occurred_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
        "amount": amount,
        "currency": "EUR",
        "items": [{"item": "sku:1", "quantity": 1}],
    }
    response = http.post("/v1/me/activity", json={"records": [record]}, headers=consumer.headers)
    assert response.status_code == 201, response.text


def _event_decisions(runtime: Runtime, supplier: Client) -> list[str]:
    """Policy-log decisions about this supplier's use of activity data (what an offer.accepted event is)."""
    with unit_of_work(runtime.read_session_factory) as session:
        rows = session.scalars(
            select(PolicyLogEntry)
            .where(
                PolicyLogEntry.kind == "decision",
                PolicyLogEntry.supplier_id == supplier.owner_id,
                PolicyLogEntry.categories == "activity",
            )
            .order_by(PolicyLogEntry.leaf_index)
        ).all()
        return [str(row.decision) for row in rows]


def _log(http: TestClient, supplier: Client, webhook_id: str, **params: Any) -> dict[str, Any]:
    response = http.get(
        f"/v1/supplier/webhooks/{webhook_id}/deliveries", params=params, headers=supplier.headers(http)
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_routes_need_a_supplier_with_events_subscribe(http: TestClient, events_runtime: Runtime) -> None:
    body = {"url": HOOK, "event_types": ["offer.accepted"]}
    consumer = make_consumer(http)
    auditor = make_auditor(events_runtime)
    unscoped = make_supplier(events_runtime, scopes=["audiences:read"])
    for method, path in (
        ("post", "/v1/supplier/webhooks"),
        ("get", "/v1/supplier/webhooks"),
        ("get", "/v1/supplier/webhooks/whk_x"),
        ("delete", "/v1/supplier/webhooks/whk_x"),
        ("post", "/v1/supplier/webhooks/whk_x/secret"),
        ("get", "/v1/supplier/webhooks/whk_x/deliveries"),
    ):
        assert http.request(method, path, json=body).status_code == 401, path
        assert http.request(method, path, json=body, headers=consumer.headers).status_code == 401, path
        assert http.request(method, path, json=body, headers=auditor.headers(http)).status_code == 403, path
        assert http.request(method, path, json=body, headers=unscoped.headers(http)).status_code == 403, path


def test_the_secret_is_shown_once_and_stored_wrapped(http: TestClient, events_runtime: Runtime) -> None:
    supplier = make_supplier(events_runtime)
    created = _register(http, supplier, ["offer.accepted", "segment.rfm_band_rose"])
    assert created["secret"].startswith("whsec_") and len(base64.b64decode(created["secret"][6:])) == 32
    assert created["event_types"] == ["offer.accepted", "segment.rfm_band_rose"]
    listed = http.get("/v1/supplier/webhooks", headers=supplier.headers(http))
    read = http.get(f"/v1/supplier/webhooks/{created['id']}", headers=supplier.headers(http))
    assert [w["id"] for w in listed.json()["items"]] == [created["id"]]
    for response in (listed, read):
        assert response.status_code == 200 and 'secret"' not in response.text
        assert created["secret"][6:] not in response.text
    raw = base64.b64decode(created["secret"][6:])
    with unit_of_work(events_runtime.read_session_factory) as session:
        row = session.scalars(select(WebhookEndpointRow)).one()
        assert raw not in row.secret_wrapped and created["secret"].encode() not in row.secret_wrapped
    deleted = http.delete(f"/v1/supplier/webhooks/{created['id']}", headers=supplier.headers(http))
    assert deleted.status_code == 204
    gone = http.get(f"/v1/supplier/webhooks/{created['id']}", headers=supplier.headers(http))
    assert gone.status_code == 404 and gone.headers["content-type"].startswith("application/problem+json")


def test_another_suppliers_webhook_is_not_found(http: TestClient, events_runtime: Runtime) -> None:
    owner, other = make_supplier(events_runtime), make_supplier(events_runtime)
    created = _register(http, owner, ["offer.accepted"])
    path = f"/v1/supplier/webhooks/{created['id']}"
    for method, suffix in (("get", ""), ("delete", ""), ("post", "/secret"), ("get", "/deliveries")):
        response = http.request(method, path + suffix, headers=other.headers(http))
        assert response.status_code == 404, (method, suffix)
        assert response.json()["type"].endswith("/webhook-not-found")
    assert http.get("/v1/supplier/webhooks", headers=other.headers(http)).json()["items"] == []
    # Still there, with the secret it had: nothing the other supplier did changed it.
    assert http.get(path, headers=owner.headers(http)).status_code == 200
    assert (
        http.get(path, headers=owner.headers(http)).json()["secret_rotated_at"]
        == created["secret_rotated_at"]
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.215.14/hooks",  # plain http off loopback
        "https://10.0.0.8/hooks",  # private
        "https://169.254.169.254/latest/meta-data",  # link-local: cloud metadata
        "https://[::ffff:192.168.1.1]/hooks",  # private behind an IPv4-mapped IPv6 address
        "https://[2002:7f00:1::]/hook",  # 6to4 of loopback
        "https://[::127.0.0.1]/hook",  # IPv4-compatible loopback
        "https://[64:ff9b::7f00:1]/hook",  # NAT64 of loopback
        "https://[64:ff9b::a9fe:a9fe]/hook",  # NAT64 of the cloud metadata address
        "https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/hook",  # Teredo with client 127.0.0.1
        "https://user:pw@93.184.215.14/hooks",  # credentials in the URL
        "ftp://93.184.215.14/hooks",
        "https://0.0.0.0/hooks",
        "not a url",
    ],
)
def test_unsafe_urls_are_refused(http: TestClient, events_runtime: Runtime, url: str) -> None:
    supplier = make_supplier(events_runtime)
    response = http.post(
        "/v1/supplier/webhooks",
        json={"url": url, "event_types": ["offer.accepted"]},
        headers=supplier.headers(http),
    )
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert http.get("/v1/supplier/webhooks", headers=supplier.headers(http)).json()["items"] == []


def test_endpoints_per_supplier_are_bounded(http: TestClient, events_runtime: Runtime) -> None:
    supplier = make_supplier(events_runtime)
    for n in range(MAX_ENDPOINTS):
        _register(http, supplier, ["offer.accepted"], f"{HOOK}/{n}")
    refused = http.post(
        "/v1/supplier/webhooks",
        json={"url": HOOK, "event_types": ["offer.accepted"]},
        headers=supplier.headers(http),
    )
    assert refused.status_code == 409 and refused.json()["type"].endswith("/webhook-limit-reached")
    bad_type = http.post(
        "/v1/supplier/webhooks",
        json={"url": HOOK, "event_types": ["customer.email"]},
        headers=make_supplier(events_runtime).headers(http),
    )
    assert bad_type.status_code == 422


def test_an_accepted_offer_is_delivered_signed_under_the_receivers_pseudonym(
    http: TestClient, events_runtime: Runtime
) -> None:
    supplier = _supplier(http, events_runtime)
    hook = _register(http, supplier, ["offer.accepted"])
    consumer = _customer(http)
    _granted(http, consumer, supplier, "activity")
    offer_id = _accepted_offer(http, supplier, consumer)
    logged = _event_decisions(events_runtime, supplier)
    assert logged == ["permit"]  # decided and logged when the event was written
    receiver = Receiver()
    deliver(events_runtime, receiver)
    assert _event_decisions(events_runtime, supplier) == ["permit", "permit"]  # and again when sent
    [request] = receiver.requests
    assert verify(hook["secret"], request)
    assert not verify("whsec_" + base64.b64encode(b"x" * 32).decode(), request)
    [body] = receiver.bodies()
    assert body["type"] == "offer.accepted"
    assert body["data"] == {"offer_id": offer_id, "pseudonym": pseudonym_for(http, consumer, supplier)}
    assert consumer.id not in request.content.decode() and consumer.email not in request.content.decode()
    [entry] = _log(http, supplier, hook["id"])["items"]
    assert entry["event_id"] == request.headers["webhook-id"] and entry["state"] == "delivered"
    assert entry["attempts"] == 1 and entry["last_status_code"] == 204
    deliver(events_runtime, receiver)
    assert len(receiver.requests) == 1  # delivered once, not again


def test_no_event_without_an_explicit_grant(http: TestClient, events_runtime: Runtime) -> None:
    supplier = _supplier(http, events_runtime)
    hook = _register(http, supplier, ["offer.accepted"])
    consumer = _customer(http)  # ordinary data is opt-out for offers, but events need a grant
    _accepted_offer(http, supplier, consumer)
    assert _event_decisions(events_runtime, supplier) == [
        "permit"
    ]  # permitted by default: logged, not enough
    receiver = Receiver()
    deliver(events_runtime, receiver)
    assert receiver.requests == [] and _log(http, supplier, hook["id"])["items"] == []


def test_segment_events_carry_each_receivers_own_pseudonym(http: TestClient, events_runtime: Runtime) -> None:
    first, second, unconsented = (_supplier(http, events_runtime) for _ in range(3))
    hooks = {s.owner_id: _register(http, s, ["segment.rfm_band_rose"]) for s in (first, second, unconsented)}
    consumer = _customer(http)
    for supplier in (first, second):
        _granted(http, consumer, supplier, "purchases")
    _purchase(http, consumer, 60_000)
    receiver = Receiver()
    deliver(events_runtime, receiver)
    by_hook = {r.url.path: r for r in receiver.requests}
    assert len(receiver.requests) == 2 and len(by_hook) == 1  # same URL; tell them apart by signature
    seen: dict[str, str] = {}
    for request in receiver.requests:
        [owner] = [s for s in (first, second) if verify(hooks[s.owner_id]["secret"], request)]
        body = json.loads(request.content)
        assert body["type"] == "segment.rfm_band_rose" and body["data"]["segment"] == "rfm_band_rose"
        seen[owner.owner_id] = body["data"]["pseudonym"]
        assert consumer.id not in request.content.decode()
    assert seen[first.owner_id] == pseudonym_for(http, consumer, first)
    assert seen[second.owner_id] == pseudonym_for(http, consumer, second)
    assert seen[first.owner_id] != seen[second.owner_id]
    assert _log(http, unconsented, hooks[unconsented.owner_id]["id"])["items"] == []
    # The index is refreshed again (a profile change) but no band rose: no new event.
    changed = http.patch("/v1/me/profile", json={"interests": ["books"]}, headers=consumer.headers)
    assert changed.status_code == 200
    deliver(events_runtime, receiver)
    assert len(receiver.requests) == 2


def test_an_answered_request_is_told_to_the_requesting_supplier(
    http: TestClient, events_runtime: Runtime
) -> None:
    supplier, rival = _supplier(http, events_runtime), _supplier(http, events_runtime)
    hook = _register(http, supplier, ["request.answered"])
    rival_hook = _register(http, rival, ["request.answered"])
    consumer = _customer(http)
    body = {
        "pseudonym": pseudonym_for(http, consumer, supplier),
        "purpose": "marketing",
        "categories": ["interests"],
        "expires_at": later(),
    }
    created = http.post("/v1/requests", json=body, headers=supplier.headers(http))
    assert created.status_code == 201, created.text
    assert (
        http.post(f"/v1/me/inbox/{created.json()['id']}/accept", headers=consumer.headers).status_code == 200
    )
    receiver = Receiver()
    deliver(events_runtime, receiver)
    [request] = receiver.requests
    assert verify(hook["secret"], request) and not verify(rival_hook["secret"], request)
    assert json.loads(request.content)["data"] == {
        "request_id": created.json()["id"],
        "answer": "accepted",
        "pseudonym": body["pseudonym"],
    }


def test_retries_back_off_with_the_same_id_and_stop_at_the_limit(
    http: TestClient, events_runtime: Runtime
) -> None:
    supplier = _supplier(http, events_runtime)
    hook = _register(http, supplier, ["offer.accepted"])
    consumer = _customer(http)
    _granted(http, consumer, supplier, "activity")
    _accepted_offer(http, supplier, consumer)
    receiver = Receiver(statuses=[500] * 10)
    deliver(events_runtime, receiver, passes=MAX_ATTEMPTS + 3)
    assert len(receiver.requests) == MAX_ATTEMPTS
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    assert len({r.content for r in receiver.requests}) == 1
    [entry] = _log(http, supplier, hook["id"])["items"]
    assert entry["state"] == "failed" and entry["attempts"] == MAX_ATTEMPTS
    assert entry["last_status_code"] == 500 and entry["last_error"] == "HTTP 500"


def test_a_retry_succeeds_after_failures(http: TestClient, events_runtime: Runtime) -> None:
    supplier = _supplier(http, events_runtime)
    hook = _register(http, supplier, ["offer.accepted"])
    consumer = _customer(http)
    _granted(http, consumer, supplier, "activity")
    _accepted_offer(http, supplier, consumer)
    receiver = Receiver(statuses=[503, 200])
    deliver(events_runtime, receiver, passes=4)
    assert len(receiver.requests) == 2
    [entry] = _log(http, supplier, hook["id"])["items"]
    assert entry["state"] == "delivered" and entry["attempts"] == 2


def test_a_withdrawal_drops_undelivered_events_at_once(http: TestClient, events_runtime: Runtime) -> None:
    supplier = _supplier(http, events_runtime)
    hook = _register(http, supplier, ["offer.accepted", "segment.rfm_band_rose"])
    consumer = _customer(http)
    record_id = _granted(http, consumer, supplier, "activity")
    _granted(http, consumer, supplier, "purchases")
    _accepted_offer(http, supplier, consumer)
    withdrawn = http.post(f"/v1/me/consents/{record_id}/withdraw", headers=consumer.headers)
    assert withdrawn.status_code == 200
    [entry] = _log(http, supplier, hook["id"])["items"]
    assert entry["state"] == "dropped"
    receiver = Receiver()
    deliver(events_runtime, receiver)
    assert receiver.requests == []
    # After withdrawing everything, no new event is written either.
    assert http.post("/v1/me/consents/withdraw-all", headers=consumer.headers, json={}).status_code == 200
    _purchase(http, consumer, 60_000)
    deliver(events_runtime, receiver)
    assert receiver.requests == [] and len(_log(http, supplier, hook["id"])["items"]) == 1


def test_consent_is_decided_again_at_delivery_time(http: TestClient, events_runtime: Runtime) -> None:
    supplier = _supplier(http, events_runtime)
    hook = _register(http, supplier, ["offer.accepted"])
    consumer = _customer(http)
    _granted(http, consumer, supplier, "activity")
    _accepted_offer(http, supplier, consumer)
    # Restricting processing is not a consent withdrawal, but no supplier may use the data any more.
    assert http.post("/v1/me/restriction", headers=consumer.headers, json={}).status_code in (200, 201)
    receiver = Receiver()
    deliver(events_runtime, receiver)
    assert receiver.requests == []
    [entry] = _log(http, supplier, hook["id"])["items"]
    assert entry["state"] == "dropped"


def test_a_rotated_secret_signs_the_next_attempt(http: TestClient, events_runtime: Runtime) -> None:
    supplier = _supplier(http, events_runtime)
    hook = _register(http, supplier, ["offer.accepted"])
    consumer = _customer(http)
    _granted(http, consumer, supplier, "activity")
    _accepted_offer(http, supplier, consumer)
    rotated = http.post(f"/v1/supplier/webhooks/{hook['id']}/secret", headers=supplier.headers(http))
    assert rotated.status_code == 200 and rotated.json()["secret"] != hook["secret"]
    receiver = Receiver()
    deliver(events_runtime, receiver)
    [request] = receiver.requests
    assert verify(rotated.json()["secret"], request) and not verify(hook["secret"], request)


def test_the_delivery_log_pages_newest_first(http: TestClient, events_runtime: Runtime) -> None:
    supplier = _supplier(http, events_runtime)
    hook = _register(http, supplier, ["offer.accepted"])
    consumer = _customer(http)
    _granted(http, consumer, supplier, "activity")
    offers = [_accepted_offer(http, supplier, consumer) for _ in range(3)]
    seen: list[str] = []
    page = _log(http, supplier, hook["id"], limit=2)
    seen += [i["id"] for i in page["items"]]
    assert page["next_cursor"] is not None
    page = _log(http, supplier, hook["id"], limit=2, cursor=page["next_cursor"])
    seen += [i["id"] for i in page["items"]]
    assert page["next_cursor"] is None
    assert len(seen) == len(offers) == len(set(seen)) and seen == sorted(seen, key=int, reverse=True)
    with unit_of_work(events_runtime.read_session_factory) as session:
        assert len(session.scalars(select(WebhookDeliveryRow)).all()) == 3
    bad = http.get(f"/v1/supplier/webhooks/{hook['id']}/deliveries?cursor=x", headers=supplier.headers(http))
    assert bad.status_code == 422


def test_the_address_is_checked_again_before_each_attempt(
    http: TestClient, events_runtime: Runtime, runtime: Runtime
) -> None:
    supplier = _supplier(http, events_runtime)
    hook = _register(http, supplier, ["offer.accepted"])  # loopback allowed when registered
    consumer = _customer(http)
    _granted(http, consumer, supplier, "activity")
    _accepted_offer(http, supplier, consumer)
    receiver = Receiver()
    deliver(runtime, receiver)  # a worker whose settings refuse loopback (as production's do)
    assert receiver.requests == []
    [entry] = _log(http, supplier, hook["id"])["items"]
    assert entry["state"] == "pending" and entry["attempts"] == 1
    assert "loopback" in entry["last_error"]


def test_a_name_rebound_to_an_embedded_loopback_address_is_not_delivered_to(
    http: TestClient, events_runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = {"address": "93.184.215.14"}
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "hooks.example.com":
            return real_getaddrinfo(host, port, *args, **kwargs)
        address = answer["address"]
        if ":" in address:
            return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0))]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    supplier = _supplier(http, events_runtime)
    hook = _register(http, supplier, ["offer.accepted"], url="https://hooks.example.com/hooks")
    consumer = _customer(http)
    _granted(http, consumer, supplier, "activity")
    _accepted_offer(http, supplier, consumer)
    answer["address"] = "64:ff9b::7f00:1"  # the name now leads through NAT64 to loopback
    receiver = Receiver()
    deliver(events_runtime, receiver)  # even with loopback allowed: a translator's loopback is not ours
    assert receiver.requests == []
    [entry] = _log(http, supplier, hook["id"])["items"]
    assert entry["state"] == "pending" and entry["attempts"] == 1
    assert "embeds a non-global IPv4 address" in entry["last_error"]


def test_a_delivery_reaches_a_receiver_by_its_name(
    http: TestClient, events_runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = loopback_only(monkeypatch)
    Dns(monkeypatch, "hooks.example.com", "127.0.0.1")
    with loopback_receiver() as listener:
        url = f"http://hooks.example.com:{listener.port}/hooks"
        supplier = _supplier(http, events_runtime)
        hook = _register(http, supplier, ["offer.accepted"], url=url)
        consumer = _customer(http)
        _granted(http, consumer, supplier, "activity")
        _accepted_offer(http, supplier, consumer)
        with new_client(events_runtime.settings) as client:  # the real network, no stand-in receiver
            deliver_due(events_runtime, client)
    [received] = listener.requests
    assert received.path == "/hooks" and received.headers["host"] == f"hooks.example.com:{listener.port}"
    assert verify(hook["secret"], httpx.Request("POST", url, headers=received.headers, content=received.body))
    assert asked == ["127.0.0.1"]
    [entry] = _log(http, supplier, hook["id"])["items"]
    assert entry["state"] == "delivered" and entry["last_status_code"] == 204


def test_a_delivery_connects_to_the_address_its_check_passed_not_to_a_later_answer(
    http: TestClient, events_runtime: Runtime, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = loopback_only(monkeypatch)
    dns = Dns(monkeypatch, "hooks.example.com", "93.184.215.14")
    with loopback_receiver() as listener:
        supplier = _supplier(http, events_runtime)
        url = f"https://hooks.example.com:{listener.port}/hooks"
        hook = _register(http, supplier, ["offer.accepted"], url=url)
        consumer = _customer(http)
        _granted(http, consumer, supplier, "activity")
        _accepted_offer(http, supplier, consumer)
        dns.answers = ["93.184.215.14", "127.0.0.1"]  # rebinding: one more public answer, then loopback
        with new_client(runtime.settings) as client:  # a worker whose settings refuse loopback
            deliver_due(runtime, client)
        assert listener.connections == 0
    assert asked == ["93.184.215.14"]  # the one connection went to the address checked (off this machine)
    [entry] = _log(http, supplier, hook["id"])["items"]
    assert entry["state"] == "pending" and entry["last_error"] == "request failed: ConnectError"


def test_a_suspended_supplier_receives_no_events(http: TestClient, events_runtime: Runtime) -> None:
    supplier = _supplier(http, events_runtime)
    hook = _register(http, supplier, ["offer.accepted"])
    consumer = _customer(http)
    _granted(http, consumer, supplier, "activity")
    _accepted_offer(http, supplier, consumer)
    with unit_of_work(events_runtime.session_factory) as session:
        supplier_status.set_status(session, supplier.owner_id, SupplierStatus.SUSPENDED, reason="test")
    receiver = Receiver()
    deliver(events_runtime, receiver)
    assert receiver.requests == []
    with unit_of_work(events_runtime.read_session_factory) as session:
        [row] = session.scalars(select(WebhookDeliveryRow)).all()
        assert row.state == "dropped" and row.endpoint_id == hook["id"]
