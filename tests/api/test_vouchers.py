"""Vouchers through the API: a customer turns credits into a code, a supplier redeems it and learns its value,
never who bought it; the value moves once; what expires comes back to her."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from infomediary.database import unit_of_work, utcnow
from infomediary.ledger.models import LedgerTransaction, TransactionKind
from infomediary.policylog.service import log_pseudonym
from infomediary.runtime import Runtime
from infomediary.vouchers import code as codes
from infomediary.vouchers.models import VoucherRow
from tests.fixtures.actors import erase, make_auditor, make_consumer, make_supplier
from tests.fixtures.consents import pseudonym_for
from tests.fixtures.invariants import assert_books_balance
from tests.fixtures.vouchers import balance, fund, issue, issued_code, redeem, supplier_balance

CODE = re.compile(r"VCH(-[0-9A-HJKMNP-TV-Z]{4}){7}")


def _expire(runtime: Runtime, voucher_id: str) -> None:
    with unit_of_work(runtime.session_factory) as session:
        session.execute(
            update(VoucherRow)
            .where(VoucherRow.id == voucher_id)
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )


def test_issue_debits_her_and_redeeming_pays_the_supplier_without_naming_her(
    http: TestClient, runtime: Runtime
) -> None:
    consumer = make_consumer(http)
    shop = make_supplier(runtime)
    fund(runtime, consumer.id, 100)
    # She is known to the shop by a pseudonym: the redemption must not give it either.
    pseudonym = pseudonym_for(http, consumer, shop)

    voucher = issued_code(http, consumer, shop.owner_id, 30)
    assert CODE.fullmatch(voucher["code"]), voucher["code"]
    assert voucher["value"] == 30 and voucher["state"] == "active"
    assert voucher["supplier_id"] == shop.owner_id
    assert balance(http, consumer) == 70
    before = supplier_balance(http, shop)

    # As a person types it: lower case, spaces instead of dashes.
    typed = voucher["code"].lower().replace("-", " ")
    answer = redeem(http, shop, typed)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"voucher_id", "value", "currency", "redeemed_at"}
    assert body["value"] == 30 and body["currency"] == "credits"
    text = answer.text + json.dumps(dict(answer.headers))
    hers = [consumer.id, consumer.shown_id, consumer.email, pseudonym, log_pseudonym(runtime, consumer.id)]
    assert [value for value in hers if value in text] == []
    assert supplier_balance(http, shop) == before + 30
    assert balance(http, consumer) == 70

    # The supplier's ledger line is from the broker, the voucher's price in her ledger goes to the broker.
    line = http.get("/v1/supplier/ledger", headers=shop.headers(http)).json()["postings"][0]
    assert line["kind"] == "voucher_redeemed" and line["counterparties"] == ["broker"]
    rewards = http.get("/v1/me/rewards", headers=consumer.headers).json()["postings"]
    issued = next(p for p in rewards if p["kind"] == "voucher_issued")
    assert issued["amount"] == -30 and issued["counterparties"] == ["broker"]

    listed = http.get("/v1/me/vouchers", headers=consumer.headers).json()["items"]
    assert [(v["id"], v["state"], v["code"]) for v in listed] == [(voucher["id"], "redeemed", None)]
    assert_books_balance(runtime)


def test_another_supplier_gets_the_answer_an_unknown_code_gets(http: TestClient, runtime: Runtime) -> None:
    consumer = make_consumer(http)
    shop, other = make_supplier(runtime), make_supplier(runtime)
    fund(runtime, consumer.id, 10)
    voucher = issued_code(http, consumer, shop.owner_id, 10)

    wrong = redeem(http, other, voucher["code"])
    unknown = redeem(http, other, codes.render(codes.new_secret()))
    assert wrong.status_code == unknown.status_code == 404
    strip = ("instance", "request_id")
    assert {k: v for k, v in wrong.json().items() if k not in strip} == {
        k: v for k, v in unknown.json().items() if k not in strip
    }
    assert wrong.json()["type"].endswith("/voucher-not-found")
    # Still spendable where it belongs.
    assert redeem(http, shop, voucher["code"]).status_code == 200


def test_redeemed_once_a_second_key_is_a_conflict_and_the_same_key_a_replay(
    http: TestClient, runtime: Runtime
) -> None:
    consumer = make_consumer(http)
    shop = make_supplier(runtime)
    fund(runtime, consumer.id, 10)
    voucher = issued_code(http, consumer, shop.owner_id, 10)
    before = supplier_balance(http, shop)

    first = redeem(http, shop, voucher["code"], key="checkout-1")
    assert first.status_code == 200 and "idempotent-replayed" not in first.headers
    again = redeem(http, shop, voucher["code"], key="checkout-1")
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    twice = redeem(http, shop, voucher["code"], key="checkout-2")
    assert twice.status_code == 409 and twice.json()["type"].endswith("/voucher-already-redeemed")
    assert supplier_balance(http, shop) == before + 10
    assert_books_balance(runtime)


def test_a_key_that_paid_for_one_voucher_does_not_spend_another(http: TestClient, runtime: Runtime) -> None:
    consumer = make_consumer(http)
    shop = make_supplier(runtime)
    fund(runtime, consumer.id, 20)
    one, two = (issued_code(http, consumer, shop.owner_id, 10) for _ in range(2))
    assert redeem(http, shop, one["code"], key="till-7").status_code == 200
    reused = redeem(http, shop, two["code"], key="till-7")
    assert reused.status_code == 409 and reused.json()["type"].endswith("/idempotency-key-reused")
    # The second voucher is untouched: spendable with a fresh key.
    assert redeem(http, shop, two["code"]).status_code == 200


def test_expired_vouchers_are_refused_and_their_value_comes_back(http: TestClient, runtime: Runtime) -> None:
    consumer = make_consumer(http)
    shop = make_supplier(runtime)
    fund(runtime, consumer.id, 50)
    voucher = issued_code(http, consumer, shop.owner_id, 20)
    assert balance(http, consumer) == 30
    _expire(runtime, voucher["id"])
    before = supplier_balance(http, shop)

    refused = redeem(http, shop, voucher["code"])
    assert refused.status_code == 410 and refused.json()["type"].endswith("/voucher-expired")
    assert supplier_balance(http, shop) == before

    listed = http.get("/v1/me/vouchers", headers=consumer.headers).json()["items"]
    assert listed[0]["state"] == "expired" and listed[0]["refunded_at"] is not None
    assert listed[0]["code"] is None
    assert balance(http, consumer) == 50
    # Refunded once, however often she looks.
    http.get("/v1/me/vouchers", headers=consumer.headers)
    assert balance(http, consumer) == 50
    assert redeem(http, shop, voucher["code"]).status_code == 410
    assert_books_balance(runtime)


def test_too_few_credits_is_a_problem_and_changes_nothing(http: TestClient, runtime: Runtime) -> None:
    consumer = make_consumer(http)
    shop = make_supplier(runtime)
    fund(runtime, consumer.id, 5)
    refused = issue(http, consumer, shop.owner_id, 6)
    assert refused.status_code == 402, refused.text
    assert refused.json()["type"].endswith("/insufficient-credits")
    assert balance(http, consumer) == 5
    assert http.get("/v1/me/vouchers", headers=consumer.headers).json()["items"] == []
    assert_books_balance(runtime)


def test_issuing_is_idempotent(http: TestClient, runtime: Runtime) -> None:
    consumer = make_consumer(http)
    shop, other = make_supplier(runtime), make_supplier(runtime)
    fund(runtime, consumer.id, 50)
    first = issue(http, consumer, shop.owner_id, 10, key="gift-1")
    again = issue(http, consumer, shop.owner_id, 10, key="gift-1")
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert balance(http, consumer) == 40
    # The same key for something else: the same value at another supplier, or another value.
    assert issue(http, consumer, other.owner_id, 10, key="gift-1").status_code == 409
    assert issue(http, consumer, shop.owner_id, 11, key="gift-1").status_code == 409
    assert balance(http, consumer) == 40
    missing = http.post(
        "/v1/me/vouchers", json={"supplier_id": shop.owner_id, "value": 1}, headers=consumer.headers
    )
    assert missing.status_code == 400 and missing.json()["type"].endswith("/idempotency-key-required")


@pytest.mark.parametrize(
    "body",
    [
        {"value": 0},
        {"value": 100_001},
        {"value": 5, "days": 0},
        {"value": 5, "days": 367},
    ],
)
def test_bounds_are_checked(http: TestClient, runtime: Runtime, body: dict[str, int]) -> None:
    consumer = make_consumer(http)
    shop = make_supplier(runtime)
    fund(runtime, consumer.id, 200_000)
    response = http.post(
        "/v1/me/vouchers",
        json={"supplier_id": shop.owner_id, **body},
        headers={**consumer.headers, "Idempotency-Key": "k"},
    )
    assert response.status_code == 422, response.text
    assert balance(http, consumer) == 200_000


def test_unknown_and_suspended_suppliers_take_no_voucher(http: TestClient, runtime: Runtime) -> None:
    consumer = make_consumer(http)
    fund(runtime, consumer.id, 10)
    assert issue(http, consumer, "sup_nobody", 5).status_code == 404
    suspended = make_supplier(runtime)
    auditor = make_auditor(runtime)
    sanction = {"supplier_id": suspended.owner_id, "kind": "suspension", "reason": "voucher test"}
    assert http.post("/v1/audit/sanctions", json=sanction, headers=auditor.headers(http)).status_code == 201
    refused = issue(http, consumer, suspended.owner_id, 5)
    assert refused.status_code == 400 and refused.json()["type"].endswith("/invalid-voucher")
    assert balance(http, consumer) == 10


def test_a_mistyped_code_is_told_apart_from_an_unknown_one(http: TestClient, runtime: Runtime) -> None:
    consumer = make_consumer(http)
    shop = make_supplier(runtime)
    fund(runtime, consumer.id, 10)
    voucher = issued_code(http, consumer, shop.owner_id, 10)
    typo = voucher["code"][:-1] + ("0" if voucher["code"][-1] != "0" else "1")
    answer = redeem(http, shop, typo)
    assert answer.status_code == 422, answer.text
    assert redeem(http, shop, voucher["code"]).status_code == 200


def test_redeeming_needs_the_scope_and_a_key(http: TestClient, runtime: Runtime) -> None:
    consumer = make_consumer(http)
    shop = make_supplier(runtime)
    fund(runtime, consumer.id, 10)
    voucher = issued_code(http, consumer, shop.owner_id, 10)
    others = shop.headers(http, scope="offers:write")
    assert http.post("/v1/vouchers/redeem", json={"code": voucher["code"]}, headers=others).status_code == 403
    keyless = http.post("/v1/vouchers/redeem", json={"code": voucher["code"]}, headers=shop.headers(http))
    assert keyless.status_code == 400
    assert redeem(http, shop, voucher["code"]).status_code == 200


def test_her_vouchers_page(http: TestClient, runtime: Runtime) -> None:
    consumer = make_consumer(http)
    shop = make_supplier(runtime)
    fund(runtime, consumer.id, 10)
    made = {issued_code(http, consumer, shop.owner_id, 1)["id"] for _ in range(5)}
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = http.get("/v1/me/vouchers", params=params, headers=consumer.headers).json()
        seen += [v["id"] for v in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(made)
    # Another customer has none of them.
    stranger = make_consumer(http)
    assert http.get("/v1/me/vouchers", headers=stranger.headers).json()["items"] == []


def test_after_her_erasure_no_row_links_her_to_a_voucher(http: TestClient, runtime: Runtime) -> None:
    consumer = make_consumer(http)
    shop = make_supplier(runtime)
    fund(runtime, consumer.id, 30)
    unspent = issued_code(http, consumer, shop.owner_id, 10)
    spent = issued_code(http, consumer, shop.owner_id, 10)
    assert redeem(http, shop, spent["code"]).status_code == 200
    customer_id = consumer.id
    assert erase(http, consumer.headers).status_code == 200

    with runtime.read_session_factory() as session:
        ids = [unspent["id"], spent["id"]]
        rows = session.scalars(select(VoucherRow).where(VoucherRow.id.in_(ids))).all()
        assert len(rows) == 2
        for row in rows:
            assert (row.holder_tag, row.issue_tag, row.code_sealed) == (None, None, None)
            assert customer_id not in repr(vars(row))
        # Her ledger transactions for vouchers name no voucher.
        paid = session.scalars(
            select(LedgerTransaction).where(LedgerTransaction.kind == TransactionKind.VOUCHER_ISSUED.value)
        ).all()
        for transaction in paid:
            assert transaction.reference is None
            assert unspent["id"] not in repr(vars(transaction)) and spent["id"] not in repr(vars(transaction))
    # The unspent one is a bearer instrument: whoever has the code may still spend it.
    assert redeem(http, shop, unspent["code"]).status_code == 200
    assert_books_balance(runtime)
