"""Rewards and the supplier ledger through the API, and penalties paid through it."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from infomediary.database import unit_of_work
from infomediary.ledger import repository
from infomediary.ledger import service as ledger
from infomediary.policylog import kinds
from infomediary.policylog.models import PolicyLogEntry
from infomediary.runtime import Runtime
from tests.fixtures.actors import Client, Consumer, make_auditor, make_consumer, make_supplier
from tests.fixtures.consents import pseudonym_for


def fund(runtime: Runtime, supplier: Client, amount: int) -> None:
    with unit_of_work(runtime.session_factory) as session:
        ledger.top_up(session, supplier_id=supplier.owner_id, amount=amount, idempotency_key="fund")


def penalty(supplier: Client, affected: list[str], amount: int = 100) -> dict[str, object]:
    return {
        "supplier_id": supplier.owner_id,
        "kind": "penalty",
        "reason": "released data after withdrawal",
        "amount_per_customer": amount,
        "affected": affected,
    }


def rewards(http: TestClient, consumer: Consumer) -> dict:  # type: ignore[type-arg]
    response = http.get("/v1/me/rewards", headers=consumer.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_ledger_routes_need_the_right_actor(http: TestClient, runtime: Runtime) -> None:
    supplier = make_supplier(runtime)
    auditor = make_auditor(runtime)
    consumer = make_consumer(http)
    assert http.get("/v1/me/rewards").status_code == 401
    assert http.get("/v1/me/rewards", headers=supplier.headers(http)).status_code == 401
    assert http.get("/v1/supplier/ledger").status_code == 401
    assert http.get("/v1/supplier/ledger", headers=consumer.headers).status_code == 401
    assert http.get("/v1/supplier/ledger", headers=auditor.headers(http)).status_code == 403
    empty = rewards(http, consumer)
    assert empty == {"balance": 0, "postings": [], "next_cursor": None}


def test_a_penalty_pays_affected_customers_once_and_is_logged(http: TestClient, runtime: Runtime) -> None:
    supplier = make_supplier(runtime, name="Careless Ltd")
    auditor = make_auditor(runtime)
    alice, bob, carol = make_consumer(http), make_consumer(http), make_consumer(http)
    affected = [pseudonym_for(http, alice, supplier), pseudonym_for(http, bob, supplier)]
    fund(runtime, supplier, 1_000)
    writer = auditor.headers(http)

    missing_key = http.post("/v1/audit/sanctions", json=penalty(supplier, affected), headers=writer)
    assert missing_key.status_code == 400
    assert missing_key.json()["type"].endswith("idempotency-key-required")

    keyed = {**writer, "Idempotency-Key": "pen-1"}
    first = http.post("/v1/audit/sanctions", json=penalty(supplier, affected), headers=keyed)
    assert first.status_code == 201, first.text
    again = http.post("/v1/audit/sanctions", json=penalty(supplier, affected), headers=keyed)
    assert again.status_code == 201 and again.json() == first.json()
    changed = http.post("/v1/audit/sanctions", json=penalty(supplier, affected, 5), headers=keyed)
    assert changed.status_code == 409 and changed.json()["type"].endswith("idempotency-key-reused")

    for customer in (alice, bob):
        mine = rewards(http, customer)
        assert mine["balance"] == 100
        [line] = mine["postings"]
        assert line["kind"] == "penalty" and line["amount"] == 100
        assert line["counterparties"] == ["Careless Ltd", "customer"]
    assert rewards(http, carol)["balance"] == 0

    books = http.get("/v1/supplier/ledger", headers=supplier.headers(http))
    assert books.status_code == 200
    body = books.json()
    assert body["balance"] == 800 and body["credit_line"] == runtime.settings.supplier_credit_line
    assert [p["kind"] for p in body["postings"]] == ["penalty", "top_up"]
    assert body["postings"][0]["counterparties"] == ["customer"]
    for customer in (alice, bob, carol):
        assert customer.id not in books.text

    with runtime.read_session_factory() as session:
        assert repository.total_of_postings(session) == 0
        logged = session.scalars(
            select(PolicyLogEntry).where(
                PolicyLogEntry.kind == kinds.SANCTION_RECORDED,
                PolicyLogEntry.supplier_id == supplier.owner_id,
            )
        ).all()
    [entry] = logged
    assert b'"amount_per_customer":100' in entry.entry and b'"customers":2' in entry.entry


def test_penalties_refuse_unknown_pseudonyms_and_overdrafts(http: TestClient, runtime: Runtime) -> None:
    supplier = make_supplier(runtime)
    other = make_supplier(runtime)
    auditor = make_auditor(runtime)
    consumer = make_consumer(http)
    theirs = pseudonym_for(http, consumer, other)
    headers = {**auditor.headers(http), "Idempotency-Key": "pen-2"}

    unknown = http.post("/v1/audit/sanctions", json=penalty(supplier, [theirs]), headers=headers)
    assert unknown.status_code == 422 and unknown.json()["type"].endswith("affected-customer-unknown")

    mine = pseudonym_for(http, consumer, supplier)
    limit = runtime.settings.supplier_credit_line
    too_much = http.post("/v1/audit/sanctions", json=penalty(supplier, [mine], limit + 1), headers=headers)
    assert too_much.status_code == 402 and too_much.json()["type"].endswith("credit-line-exceeded")
    at_limit = http.post("/v1/audit/sanctions", json=penalty(supplier, [mine], limit), headers=headers)
    assert at_limit.status_code == 201
    assert rewards(http, consumer)["balance"] == limit

    not_penalty = {**penalty(supplier, [mine]), "kind": "strike"}
    assert http.post("/v1/audit/sanctions", json=not_penalty, headers=headers).status_code == 422
    no_amount = {k: v for k, v in penalty(supplier, [mine]).items() if k != "amount_per_customer"}
    assert http.post("/v1/audit/sanctions", json=no_amount, headers=headers).status_code == 422


def test_statements_page_newest_first(http: TestClient, runtime: Runtime) -> None:
    supplier = make_supplier(runtime)
    with unit_of_work(runtime.session_factory) as session:
        for n in range(5):
            ledger.top_up(session, supplier_id=supplier.owner_id, amount=n + 1, idempotency_key=f"t{n}")
    headers = supplier.headers(http)
    first = http.get("/v1/supplier/ledger?limit=3", headers=headers).json()
    assert [p["amount"] for p in first["postings"]] == [5, 4, 3] and first["balance"] == 15
    rest = http.get(f"/v1/supplier/ledger?limit=3&cursor={first['next_cursor']}", headers=headers).json()
    assert [p["amount"] for p in rest["postings"]] == [2, 1] and rest["next_cursor"] is None
