"""Two transactions handing the same new customer to one supplier at once both succeed, with one row."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from infomediary.database import unit_of_work
from infomediary.flows import account_registered
from infomediary.pseudonyms import service as pseudonyms
from infomediary.pseudonyms.models import SupplierPseudonymRow
from infomediary.runtime import Runtime
from tests.fixtures.actors import PASSWORD, make_supplier

# Real commits on the real engines: this module's tests race connections or read what a commit leaves.
pytestmark = pytest.mark.committing


def test_concurrent_issues_of_one_pseudonym_both_succeed(runtime: Runtime) -> None:
    supplier = make_supplier(runtime)
    with unit_of_work(runtime.session_factory) as session:
        customer_id = account_registered.register(
            session, runtime, email="twin@example.org", password=PASSWORD
        ).subject_id

    def second_slice() -> dict[str, str]:
        with unit_of_work(runtime.session_factory) as session:
            return pseudonyms.issue_many(session, runtime, supplier.owner_id, [customer_id])

    first = runtime.session_factory()
    try:
        handed = pseudonyms.issue_many(
            first, runtime, supplier.owner_id, [customer_id]
        )  # written, not committed
        with ThreadPoolExecutor(1) as pool:
            other = pool.submit(second_slice)
            # The second reads "not yet issued" and then waits on the first's key (PostgreSQL) or on the
            # write lock (SQLite) until the first commits.
            time.sleep(0.5)
            first.commit()
            assert other.result(timeout=30) == handed
    finally:
        first.close()
    with runtime.read_session_factory() as session:
        count = session.scalar(
            select(func.count()).where(SupplierPseudonymRow.supplier_id == supplier.owner_id)
        )
    assert count == 1
