"""A customer's data key is read once per transaction, and an erasure in that transaction forgets it."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from infomediary.database import unit_of_work
from infomediary.profiles import datakeys, erasure, repository
from infomediary.profiles.errors import CustomerKeyMissing
from infomediary.runtime import Runtime
from tests.fixtures.population import make_customers


def _key_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    reads: list[str] = []
    read = repository.wrapped_key

    def counted(session: Session, customer_id: str) -> bytes | None:
        reads.append(customer_id)
        return read(session, customer_id)

    monkeypatch.setattr(repository, "wrapped_key", counted)
    return reads


def test_one_read_of_the_key_per_transaction_and_none_after_an_erasure_in_it(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    [customer_id, other_id] = make_customers(runtime, 2)
    reads = _key_reads(monkeypatch)
    with unit_of_work(runtime.session_factory) as session:
        first = datakeys.cipher_for(session, runtime, customer_id)
        assert datakeys.cipher_for(session, runtime, customer_id) is first
        sealed = first.seal("field.test", b"value", 1)
        assert datakeys.cipher_for(session, runtime, other_id) is not first
        assert len(reads) == 2  # one per customer
        erasure.delete_vault(session, customer_id)
        with pytest.raises(CustomerKeyMissing):
            datakeys.cipher_for(session, runtime, customer_id)
        session.rollback()
    # A new transaction reads the key again (and the rolled-back erasure left it in place).
    with unit_of_work(runtime.session_factory) as session:
        assert datakeys.cipher_for(session, runtime, customer_id).open("field.test", sealed, 1) == b"value"
    assert len(reads) == 4
