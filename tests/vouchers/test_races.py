"""Vouchers raced on PostgreSQL: one code redeemed by many checkouts at once moves its value once; one key
sent twice at once answers the same redemption; a customer spending the same credits on many vouchers at
once cannot go below zero; a refund racing a redemption at the moment of expiry happens only if the
redemption did not.

Threads against PostgreSQL, in a fresh database of their own (they run, or outside CI skip visibly, even
when the suite is on SQLite). On SQLite every writing transaction holds the write lock from BEGIN, so these
races cannot happen there (the concurrent-writes test sends the same bursts through the API on both).
"""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from infomediary.database import WriteSession, unit_of_work, utcnow
from infomediary.errors import DomainError
from infomediary.ledger.models import LedgerTransaction, OwnerKind, TransactionKind
from infomediary.ledger.repository import balance_of
from infomediary.runtime import Runtime
from infomediary.vouchers import redemption, service
from infomediary.vouchers.errors import VoucherAlreadyRedeemed
from infomediary.vouchers.models import VoucherRow
from tests.fixtures.actors import make_supplier
from tests.fixtures.invariants import assert_books_balance
from tests.fixtures.population import make_customers
from tests.fixtures.races import at_once
from tests.fixtures.vouchers import fund

pytestmark = pytest.mark.committing


def _voucher(runtime: Runtime, value: int) -> tuple[str, str, str]:
    """(customer id, supplier id, code) of a fresh voucher."""
    customer_id = next(iter(make_customers(runtime, 1)))
    supplier_id = make_supplier(runtime).owner_id
    fund(runtime, customer_id, value)
    with unit_of_work(runtime.session_factory) as session:
        issued = service.issue(
            session, runtime, customer_id, supplier_id=supplier_id, value=value, days=1, idempotency_key="k"
        )
    assert issued.voucher.code is not None
    return customer_id, supplier_id, issued.voucher.code


def _supplier_balance(runtime: Runtime, supplier_id: str) -> int:
    with runtime.read_session_factory() as session:
        return balance_of(session, OwnerKind.SUPPLIER, supplier_id)


def _redemptions(runtime: Runtime) -> int:
    with runtime.read_session_factory() as session:
        kind = TransactionKind.VOUCHER_REDEEMED.value
        return len(session.scalars(select(LedgerTransaction.id).where(LedgerTransaction.kind == kind)).all())


def test_a_voucher_redeemed_at_once_by_many_checkouts_moves_its_value_once(pg_runtime: Runtime) -> None:
    _, supplier_id, code = _voucher(pg_runtime, 40)

    def checkout(session: WriteSession, worker: int) -> object:
        return redemption.redeem(session, pg_runtime, supplier_id, code, idempotency_key=f"till-{worker}")

    results = at_once(pg_runtime, checkout, expected=(DomainError,))
    done = [r for r in results if isinstance(r, redemption.Redemption)]
    assert len(done) == 1 and not done[0].replayed, results
    assert all(isinstance(r, VoucherAlreadyRedeemed) for r in results if r not in done), results
    assert _supplier_balance(pg_runtime, supplier_id) == 40
    assert _redemptions(pg_runtime) == 1
    assert_books_balance(pg_runtime)


def test_one_key_sent_twice_at_once_answers_one_redemption(pg_runtime: Runtime) -> None:
    _, supplier_id, code = _voucher(pg_runtime, 15)

    def checkout(session: WriteSession, worker: int) -> object:
        return redemption.redeem(session, pg_runtime, supplier_id, code, idempotency_key="the-same-till")

    results = at_once(pg_runtime, checkout, expected=(DomainError,))
    assert all(isinstance(r, redemption.Redemption) for r in results), results
    done = [r for r in results if isinstance(r, redemption.Redemption)]
    assert sum(not r.replayed for r in done) == 1
    assert len({(r.voucher_id, r.value, r.redeemed_at) for r in done}) == 1
    assert _supplier_balance(pg_runtime, supplier_id) == 15
    assert_books_balance(pg_runtime)


def test_the_same_credits_spent_at_once_on_many_vouchers_buy_as_many_as_they_cover(
    pg_runtime: Runtime,
) -> None:
    customer_id = next(iter(make_customers(pg_runtime, 1)))
    supplier_id = make_supplier(pg_runtime).owner_id
    fund(pg_runtime, customer_id, 25)

    def buy(session: WriteSession, worker: int) -> object:
        return service.issue(
            session,
            pg_runtime,
            customer_id,
            supplier_id=supplier_id,
            value=10,
            days=1,
            idempotency_key=secrets.token_hex(8),
        )

    results = at_once(pg_runtime, buy, expected=(DomainError,))
    assert sum(isinstance(r, service.Issued) for r in results) == 2, results
    with pg_runtime.read_session_factory() as session:
        assert balance_of(session, OwnerKind.CUSTOMER, customer_id) == 5
    assert_books_balance(pg_runtime)


def test_a_refund_and_a_redemption_racing_at_expiry_do_not_both_happen(pg_runtime: Runtime) -> None:
    customer_id, supplier_id, code = _voucher(pg_runtime, 12)
    now = utcnow()
    # Expiring now: the redemptions see it a moment before, the refunds a moment after.
    with unit_of_work(pg_runtime.session_factory) as session:
        session.execute(update(VoucherRow).values(expires_at=now))

    def race(session: WriteSession, worker: int) -> object:
        if worker % 2:
            return service.settle(session, pg_runtime, customer_id, now + timedelta(seconds=1))
        before = now - timedelta(seconds=1)
        return redemption.redeem(
            session, pg_runtime, supplier_id, code, idempotency_key=f"till-{worker}", now=before
        )

    results = at_once(pg_runtime, race, expected=(DomainError,))
    redeemed = [r for r in results if isinstance(r, redemption.Redemption)]
    refunded = sum(r for r in results if isinstance(r, int))
    assert (len(redeemed), refunded) in {(1, 0), (0, 12)}, results
    with pg_runtime.read_session_factory() as session:
        customer = balance_of(session, OwnerKind.CUSTOMER, customer_id)
    assert customer + _supplier_balance(pg_runtime, supplier_id) == 12
    assert_books_balance(pg_runtime)
