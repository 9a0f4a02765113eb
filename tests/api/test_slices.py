"""Slices through HTTP as each caller: credentials, identity refused, unlinkable pseudonyms across suppliers,
withdrawal in force on the next slice, sensitive fields only with explicit grants, paid slices paid through
the ledger, and every released slice checked for k-anonymity by an independent function."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from infomediary.profiles import service as profile_service
from infomediary.runtime import Runtime
from tests.fixtures.actors import Client, Consumer, make_auditor, make_consumer, make_supplier
from tests.fixtures.audiences import PROFILE
from tests.fixtures.consents import grant, later, pseudonym_for, publish
from tests.slices.kanon import IDENTITY, assert_k_anonymous

CATEGORIES = ["identity", "contact", "demographics", "interests", "finances"]
BODY = {"purpose": "marketing", "fields": ["birth_date", "postal_code", "gender", "interests"]}
K = 5


def _slice(
    http: TestClient, supplier: Client, body: dict[str, Any] = BODY, headers: dict[str, str] | None = None
) -> httpx.Response:
    return http.post("/v1/slices", json=body, headers={**supplier.headers(http), **(headers or {})})


def _rows(response: httpx.Response) -> list[dict[str, Any]]:
    """The NDJSON rows of a successful slice, checked for k-anonymity and the absence of identity."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    rows = [json.loads(line) for line in response.text.splitlines() if line]
    assert int(response.headers["slice-count"]) == len(rows)
    assert_k_anonymous(rows, K)
    return rows


def _profiled(http: TestClient, count: int, **profile: Any) -> list[Consumer]:
    consumers = [make_consumer(http) for _ in range(count)]
    for consumer in consumers:
        changes = {**PROFILE, "given_name": "Zelda", "phone": "+33 1 23 45 67 89", **profile}
        assert http.patch("/v1/me/profile", json=changes, headers=consumer.headers).status_code == 200
    return consumers


def _supplier(http: TestClient, runtime: Runtime) -> Client:
    supplier = make_supplier(runtime)
    publish(http, supplier, ["marketing"], CATEGORIES)
    return supplier


def test_the_route_needs_a_supplier_with_the_scope(http: TestClient, runtime: Runtime) -> None:
    assert http.post("/v1/slices", json=BODY).status_code == 401
    consumer = make_consumer(http)
    assert http.post("/v1/slices", json=BODY, headers=consumer.headers).status_code == 401
    auditor = make_auditor(runtime)
    assert http.post("/v1/slices", json=BODY, headers=auditor.headers(http)).status_code == 403
    unscoped = make_supplier(runtime, scopes=["audiences:read"])
    assert http.post("/v1/slices", json=BODY, headers=unscoped.headers(http)).status_code == 403


@pytest.mark.parametrize("field", ["given_name", "family_name", "email", "phone", "street_address"])
def test_identity_fields_are_refused(http: TestClient, runtime: Runtime, field: str) -> None:
    _profiled(http, K)
    supplier = _supplier(http, runtime)
    response = _slice(http, supplier, {**BODY, "fields": ["birth_date", field]})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["fields"] == [field]


def test_identity_is_in_no_slice(http: TestClient, runtime: Runtime) -> None:
    consumers = _profiled(http, K + 1)
    supplier = _supplier(http, runtime)
    response = _slice(
        http, supplier, {**BODY, "fields": ["birth_date", "postal_code", "gender", "interests"]}
    )
    rows = _rows(response)
    assert len(rows) == K + 1
    for consumer in consumers:
        assert consumer.email not in response.text and consumer.id not in response.text
    assert "Zelda" not in response.text and "+33" not in response.text
    assert all(set(row) == {"pseudonym", "age_band", "postal_prefix", "gender", "interests"} for row in rows)
    assert not any(key in row for row in rows for key in IDENTITY)


def test_a_slice_decrypts_off_the_event_loop(
    http: TestClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A slice opens hundreds of sealed fields: on the event loop that would stall every other request of
    # the process for as long, so they are opened on the CPU pool (`infomediary.offload`).
    _profiled(http, K)
    supplier = _supplier(http, runtime)
    opened_on: set[bool] = set()
    open_sealed = profile_service._open_sealed

    def spy(*args: Any) -> Any:
        opened_on.add(_on_an_event_loop())
        return open_sealed(*args)

    monkeypatch.setattr(profile_service, "_open_sealed", spy)
    assert len(_rows(_slice(http, supplier))) == K
    assert opened_on == {False}


def _on_an_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def test_two_suppliers_get_unlinkable_pseudonyms(http: TestClient, runtime: Runtime) -> None:
    _profiled(http, K + 1)
    first, second = _supplier(http, runtime), _supplier(http, runtime)
    mine = {r["pseudonym"] for r in _rows(_slice(http, first))}
    theirs = {r["pseudonym"] for r in _rows(_slice(http, second))}
    assert len(mine) == len(theirs) == K + 1
    assert not mine & theirs
    body = {"purpose": "marketing", "categories": ["demographics"], "expires_at": later()}
    stolen = http.post(
        "/v1/requests", json={**body, "pseudonym": next(iter(mine))}, headers=second.headers(http)
    )
    assert stolen.status_code == 404
    own = http.post(
        "/v1/requests", json={**body, "pseudonym": next(iter(theirs))}, headers=second.headers(http)
    )
    assert own.status_code == 201, own.text


def _rewards(http: TestClient, consumers: list[Consumer]) -> list[int]:
    return [http.get("/v1/me/rewards", headers=c.headers).json()["balance"] for c in consumers]


def test_each_slice_has_its_own_pseudonyms_which_resolve_for_its_supplier_only(
    http: TestClient, runtime: Runtime
) -> None:
    consumers = _profiled(http, K)
    supplier, rival = _supplier(http, runtime), _supplier(http, runtime)
    stable = pseudonym_for(http, consumers[0], supplier)
    first, second = _slice(http, supplier), _slice(http, supplier)
    assert first.headers["slice-release"] != second.headers["slice-release"]
    once, again = {r["pseudonym"] for r in _rows(first)}, {r["pseudonym"] for r in _rows(second)}
    # The same customers, the same fields: nothing in common between the two releases or with the stable one.
    assert len(once) == len(again) == K and not once & again and stable not in once | again
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{43}", p) for p in once)
    body = {"purpose": "marketing", "categories": ["demographics"], "expires_at": later()}
    # A slice's pseudonym names its customer in a request; the request echoes it, never her stable one.
    asked = [
        http.post("/v1/requests", json={**body, "pseudonym": p}, headers=supplier.headers(http)) for p in once
    ]
    assert all(r.status_code == 201 for r in asked), [r.text for r in asked]
    assert {r.json()["pseudonym"] for r in asked} == once
    read = http.get(f"/v1/requests/{asked[0].json()['id']}", headers=supplier.headers(http))
    assert read.json()["pseudonym"] == asked[0].json()["pseudonym"]
    assert all(len(http.get("/v1/me/inbox", headers=c.headers).json()["items"]) == 1 for c in consumers)
    # One request per slice pseudonym: probes varied by purpose or price would fingerprint her standing
    # terms under each release's pseudonym and join the releases again. Her stable one may be asked again.
    again = http.post(
        "/v1/requests", json={**body, "pseudonym": next(iter(once)), "price_offered": 5},
        headers=supplier.headers(http),
    )  # fmt: skip
    assert again.status_code == 409 and again.json()["type"].endswith("slice-pseudonym-already-asked")
    for _ in range(2):
        repeat = http.post("/v1/requests", json={**body, "pseudonym": stable}, headers=supplier.headers(http))
        assert repeat.status_code == 201, repeat.text
    # The rival presenting them learns what a made-up pseudonym tells: the same 404.
    stolen = http.post(
        "/v1/requests", json={**body, "pseudonym": next(iter(once))}, headers=rival.headers(http)
    )
    made_up = http.post("/v1/requests", json={**body, "pseudonym": "A" * 43}, headers=rival.headers(http))
    assert stolen.status_code == made_up.status_code == 404
    assert stolen.json()["type"] == made_up.json()["type"]
    # "Who knows me" lists the stable pseudonym she handed over; slice releases join nothing: not listed.
    listed = http.get("/v1/me/pseudonyms", headers=consumers[0].headers).json()["pseudonyms"]
    assert [(p["supplier_id"], p["pseudonym"]) for p in listed] == [(supplier.owner_id, stable)]
    assert http.get("/v1/me/pseudonyms", headers=consumers[1].headers).json()["pseudonyms"] == []


def test_recommendations_refuse_a_slice_pseudonym_as_unknown(http: TestClient, runtime: Runtime) -> None:
    """A customer's ranking is a function of her: asked under two releases' pseudonyms it would match and
    join the slices again, so only her stable pseudonym (a relationship she chose) gets one."""
    consumers = _profiled(http, K)
    supplier = make_supplier(runtime)
    publish(http, supplier, ["marketing", "personalisation"], CATEGORIES)
    stable = pseudonym_for(http, consumers[0], supplier)
    released = [r["pseudonym"] for r in _rows(_slice(http, supplier))]
    for value in released[:2]:
        refused = http.get(f"/v1/recommendations/{value}", headers=supplier.headers(http))
        made_up = http.get(f"/v1/recommendations/{'A' * 43}", headers=supplier.headers(http))
        assert refused.status_code == made_up.status_code == 404
        assert refused.json()["type"] == made_up.json()["type"]
    # Her stable pseudonym resolves: what she gets is decided by her consents (none to personalisation here).
    known = http.get(f"/v1/recommendations/{stable}", headers=supplier.headers(http))
    assert known.status_code == 403 and known.json()["type"].endswith("personalisation-denied")


def test_a_withdrawn_customer_vanishes_from_the_next_slice(http: TestClient, runtime: Runtime) -> None:
    # Slice pseudonyms are per release, so who is in a slice shows through what each customer is paid.
    consumers = _profiled(http, K + 1)
    supplier = _supplier(http, runtime)
    leaver = consumers[0]
    granted = grant(http, leaver, supplier.owner_id, "marketing", "demographics")
    assert granted.status_code in (200, 201), granted.text
    stable = pseudonym_for(http, leaver, supplier)
    paid = {**BODY, "max_price_per_customer": 1}
    rows = _rows(_slice(http, supplier, paid, headers={"Idempotency-Key": "before"}))
    assert len(rows) == K + 1 and _rewards(http, consumers) == [1] * (K + 1)
    # The stable pseudonym she handed over is in no slice: a slice row cannot be joined to it.
    assert stable not in {r["pseudonym"] for r in rows}
    record_id = granted.json()["consent"]["id"]
    withdrawn = http.post(f"/v1/me/consents/{record_id}/withdraw", headers=leaver.headers)
    assert withdrawn.status_code == 200, withdrawn.text
    rows = _rows(_slice(http, supplier, paid, headers={"Idempotency-Key": "after"}))
    assert len(rows) == K
    assert _rewards(http, consumers) == [1] + [2] * K


def test_sensitive_fields_need_explicit_grants(http: TestClient, runtime: Runtime) -> None:
    consumers = _profiled(http, K + 1, net_worth_band="10k_100k")
    supplier = _supplier(http, runtime)
    body = {**BODY, "fields": ["birth_date", "net_worth_band"]}
    assert _rows(_slice(http, supplier, body)) == []
    for consumer in consumers[:K]:
        assert grant(http, consumer, supplier.owner_id, "marketing", "finances").status_code in (200, 201)
    rows = _rows(_slice(http, supplier, body))
    assert len(rows) == K and {r["net_worth_band"] for r in rows} == {"10k_100k"}


def test_a_paid_slice_credits_each_released_customer_through_the_ledger(
    http: TestClient, runtime: Runtime
) -> None:
    consumers = _profiled(http, K)
    supplier = _supplier(http, runtime)
    body = {**BODY, "max_price_per_customer": 5}
    missing_key = _slice(http, supplier, body)
    assert missing_key.status_code == 400
    assert missing_key.json()["type"].endswith("idempotency-key-required")
    paid = _slice(http, supplier, body, headers={"Idempotency-Key": "order-1"})
    assert paid.status_code == 200
    released = len(_rows(paid))
    assert released == K
    rewards = _rewards(http, consumers)
    assert rewards == [5] * K
    ledger = http.get("/v1/supplier/ledger", headers=supplier.headers(http)).json()
    assert ledger["balance"] == -5 * K
    # Replaying the same key pays nobody twice.
    assert _slice(http, supplier, body, headers={"Idempotency-Key": "order-1"}).status_code == 200
    assert _rewards(http, consumers) == rewards


def test_a_customer_asking_more_than_the_offer_is_left_out(http: TestClient, runtime: Runtime) -> None:
    consumers = _profiled(http, K + 1)
    supplier = _supplier(http, runtime)
    priced = grant(http, consumers[0], supplier.owner_id, "marketing", "demographics", price=10)
    assert priced.status_code in (200, 201), priced.text
    body = {**BODY, "max_price_per_customer": 5}
    rows = _rows(_slice(http, supplier, body, headers={"Idempotency-Key": "offer"}))
    assert len(rows) == K
    assert _rewards(http, consumers) == [0] + [5] * K


def test_streamed_lines_cover_every_row_in_order_across_chunks() -> None:
    from api.supplier.slices.endpoints import LINES_PER_CHUNK, _lines

    rows = [{"pseudonym": f"p{i}", "interests": ["books"]} for i in range(2 * LINES_PER_CHUNK + 3)]
    chunks = list(_lines(rows))
    assert len(chunks) == 3
    assert [json.loads(line) for line in b"".join(chunks).splitlines()] == rows


def test_a_customer_whose_erasure_key_is_gone_is_skipped_not_a_503_for_everyone(
    http: TestClient, runtime: Runtime
) -> None:
    """Her rows are back (a backup restored after her erasure) but her erasure key is not: the slice is
    taken without her, as without any erased customer, instead of failing for the supplier."""
    consumers = _profiled(http, K + 1)
    supplier = _supplier(http, runtime)
    before = _rows(_slice(http, supplier))
    assert len(before) == K + 1
    gone = consumers[0].id
    runtime.vault.shred(gone)  # what a restore leaves: her rows, sealed under a key that no longer exists
    after = _slice(http, supplier)
    assert after.status_code == 200, after.text
    assert len(_rows(after)) == K
