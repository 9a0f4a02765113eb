"""Index member numbers: how stored sets and the privacy-loss tally name a customer, never reused."""

from __future__ import annotations

from sqlalchemy import select

from infomediary.audiences import index
from infomediary.audiences.models import AudienceIndexRow
from infomediary.database import unit_of_work
from infomediary.runtime import Runtime
from tests.fixtures.audiences import indexed_customers


def _numbers(runtime: Runtime) -> dict[str, int]:
    with runtime.read_session_factory() as session:
        rows = session.execute(select(AudienceIndexRow.customer_id, AudienceIndexRow.member_no))
        return {customer: int(number) for customer, number in rows}


def test_a_number_survives_updates_and_is_never_given_to_another_customer(runtime: Runtime) -> None:
    first, last = indexed_customers(runtime, 2)
    numbers = _numbers(runtime)
    # Her index row written again (as a profile change does) keeps her number.
    with unit_of_work(runtime.session_factory) as session:
        index.refresh(session, runtime, last)
    assert _numbers(runtime)[last] == numbers[last]
    # The highest-numbered row goes (a restriction, an erasure): a newcomer does not inherit its number.
    with unit_of_work(runtime.session_factory) as session:
        index.remove(session, last)
    [newcomer] = indexed_customers(runtime, 1)
    after = _numbers(runtime)
    assert after[newcomer] > max(numbers.values())
    assert after[first] == numbers[first] and len(set(after.values())) == len(after)
