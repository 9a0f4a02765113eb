"""Ledger invariants under random sequences of posts: the books balance, keys never pay twice, and no
supplier goes below its credit line; cached balances always equal the sums of postings."""

from __future__ import annotations

from collections import defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infomediary.ledger import repository
from infomediary.ledger import service as ledger
from infomediary.ledger.errors import CreditLineExceeded, IdempotencyKeyReused, UnbalancedTransaction
from infomediary.ledger.models import OwnerKind, TransactionKind
from infomediary.runtime import Runtime

CREDIT_LINE = 3_000
SUPPLIERS = ["sup_a", "sup_b", "sup_c"]
CUSTOMERS = ["cus_1", "cus_2", "cus_3", "cus_4"]

# One operation: (idempotency key, supplier, payments to customers); a few keys so repeats are common.
payments = st.lists(st.tuples(st.sampled_from(CUSTOMERS), st.integers(1, 1_500)), min_size=1, max_size=3)
operations = st.lists(
    st.tuples(st.sampled_from([f"k{i}" for i in range(6)]), st.sampled_from(SUPPLIERS), payments),
    max_size=25,
)
top_ups = st.dictionaries(st.sampled_from(SUPPLIERS), st.integers(1, 2_000), max_size=3)


def _content(supplier: str, paid: list[tuple[str, int]]) -> tuple[str, frozenset[tuple[str, int]]]:
    merged: dict[str, int] = defaultdict(int)
    for customer, amount in paid:
        merged[customer] += amount
    return supplier, frozenset(merged.items())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(funding=top_ups, ops=operations)
def test_ledger_invariants(runtime: Runtime, funding: dict[str, int], ops: list) -> None:  # type: ignore[type-arg]
    session = runtime.session_factory()
    try:
        expected: dict[tuple[OwnerKind, str], int] = defaultdict(int)
        for supplier, amount in funding.items():
            ledger.top_up(session, supplier_id=supplier, amount=amount, idempotency_key=f"fund-{supplier}")
            expected[(OwnerKind.SUPPLIER, supplier)] += amount
        seen: dict[str, tuple[str, frozenset[tuple[str, int]]]] = {}
        for key, supplier, paid in ops:
            content = _content(supplier, paid)
            total = sum(amount for _, amount in paid)
            postings = [(ledger.supplier(supplier), -total), *((ledger.customer(c), a) for c, a in paid)]
            attempt = session.begin_nested()
            try:
                posted = ledger.post(
                    session,
                    kind=TransactionKind.VIEW_REWARD,
                    postings=postings,
                    idempotency_key=key,
                    initiator="test",
                    credit_line=CREDIT_LINE,
                )
            except IdempotencyKeyReused:
                attempt.rollback()
                assert key in seen and seen[key] != content
                continue
            except CreditLineExceeded:
                attempt.rollback()
                assert key not in seen
                assert expected[(OwnerKind.SUPPLIER, supplier)] - total < -CREDIT_LINE
                continue
            attempt.commit()
            if key in seen:
                # A repeated key with the same content replays: nothing moves a second time.
                assert posted.replayed and seen[key] == content
                continue
            assert not posted.replayed
            seen[key] = content
            expected[(OwnerKind.SUPPLIER, supplier)] -= total
            for customer, amount in paid:
                expected[(OwnerKind.CUSTOMER, customer)] += amount

        assert repository.total_of_postings(session) == 0
        sums = repository.sums_by_account(session)
        for (kind, owner), balance in expected.items():
            assert repository.balance_of(session, kind, owner) == balance
            account_id = repository.account_id_of(session, kind, owner)
            # An account whose only post was refused was rolled back with it.
            assert sums.get(account_id, 0) == balance if account_id else balance == 0
        for supplier in SUPPLIERS:
            assert repository.balance_of(session, OwnerKind.SUPPLIER, supplier) >= -CREDIT_LINE
    finally:
        session.rollback()
        session.close()


@pytest.mark.parametrize(
    "postings",
    [
        [],
        [(ledger.supplier("sup_a"), -5)],
        [(ledger.supplier("sup_a"), -5), (ledger.customer("cus_1"), 4)],
        [(ledger.supplier("sup_a"), 5), (ledger.supplier("sup_a"), -5)],
    ],
)
def test_unbalanced_postings_are_refused(runtime: Runtime, postings: list) -> None:  # type: ignore[type-arg]
    with runtime.session_factory() as session, pytest.raises(UnbalancedTransaction):
        ledger.post(
            session,
            kind=TransactionKind.ADJUSTMENT,
            postings=postings,
            idempotency_key="k",
            initiator="test",
            credit_line=CREDIT_LINE,
        )
