"""Operator accounts without HTTP: adding, logging in, sessions, throttling, and keeping kinds apart."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from infomediary.auditors import service as auditors
from infomediary.customers import service as customers
from infomediary.customers.blind_index import email_index
from infomediary.customers.errors import InvalidCredentials, InvalidSession, LoginThrottled
from infomediary.database import unit_of_work, utcnow
from infomediary.flows import account_registered, auditor_registered, supplier_registered
from infomediary.operators import service as operators
from infomediary.operators.errors import (
    InvalidOperatorSession,
    OperatorLoginRejected,
    OperatorLoginTaken,
    OperatorPasswordRejected,
)
from infomediary.operators.models import OperatorKind
from infomediary.runtime import Runtime
from infomediary.sanctions import status as supplier_status
from infomediary.suppliers.errors import SupplierNotFound
from tests.fixtures.raw_scan import raw_database_bytes

PASSWORD = "a long operator passphrase"
ADDRESS = "203.0.113.9"


@pytest.fixture
def session(runtime: Runtime, owners: tuple[str, str, str]) -> Iterator[Session]:
    with unit_of_work(runtime.session_factory) as session:
        yield session


@pytest.fixture
def owners(runtime: Runtime) -> tuple[str, str, str]:
    with unit_of_work(runtime.session_factory) as session:
        shop, _ = supplier_registered.register_supplier(session, name="Shop", scopes=["audiences:read"])
        other, _ = supplier_registered.register_supplier(
            session, name="Other Shop", scopes=["audiences:read"]
        )
        auditor_id, _ = auditor_registered.register_auditor(session, name="Watchdog")
    return shop.id, other.id, auditor_id


def _add(session: Session, runtime: Runtime, kind: OperatorKind, owner: str, login: str) -> None:
    operators.add(session, runtime, kind=kind, owner=owner, login=login, password=PASSWORD)


def _login(
    session: Session, runtime: Runtime, kind: OperatorKind, login: str, password: str = PASSWORD
) -> str:
    return operators.login(
        session, runtime, kind=kind, login=login, password=password, client_address=ADDRESS
    ).token


def test_a_supplier_operator_signs_in_for_its_own_supplier_only(
    session: Session, runtime: Runtime, owners: tuple[str, str, str]
) -> None:
    shop_id, _, _ = owners
    _add(session, runtime, OperatorKind.SUPPLIER, "Shop", "Ops@Shop.example")
    token = _login(session, runtime, OperatorKind.SUPPLIER, "  ops@shop.EXAMPLE ")
    who = operators.authenticate(session, token, OperatorKind.SUPPLIER)
    assert (who.kind, who.owner_id, who.owner_name, who.owner_status) == (
        OperatorKind.SUPPLIER,
        shop_id,
        "Shop",
        "active",
    )
    # The same session is not an auditor's, nor a consumer's.
    with pytest.raises(InvalidOperatorSession):
        operators.authenticate(session, token, OperatorKind.AUDITOR)
    with pytest.raises(InvalidSession):
        customers.authenticate(session, token)


def test_an_operator_of_one_kind_cannot_log_in_as_the_other(
    session: Session, runtime: Runtime, owners: tuple[str, str, str]
) -> None:
    _add(session, runtime, OperatorKind.AUDITOR, "Watchdog", "eve@audit.example")
    with pytest.raises(InvalidCredentials):
        _login(session, runtime, OperatorKind.SUPPLIER, "eve@audit.example")
    token = _login(session, runtime, OperatorKind.AUDITOR, "eve@audit.example")
    assert operators.authenticate(session, token, OperatorKind.AUDITOR).owner_name == "Watchdog"


def test_a_consumer_session_is_not_an_operator_session(session: Session, runtime: Runtime) -> None:
    account_registered.register(
        session, runtime, email="person@example.org", password=PASSWORD, address_vouched=True
    )
    issued = customers.login(
        session, runtime, email="person@example.org", password=PASSWORD, client_address=ADDRESS
    )
    for kind in OperatorKind:
        with pytest.raises(InvalidOperatorSession):
            operators.authenticate(session, issued.token, kind)
    # Nor is the customer's password an operator login for the same address.
    with pytest.raises(InvalidCredentials):
        _login(session, runtime, OperatorKind.SUPPLIER, "person@example.org")


def test_wrong_password_and_unknown_login_are_the_same_refusal_and_both_throttled(
    session: Session, runtime: Runtime, owners: tuple[str, str, str]
) -> None:
    _add(session, runtime, OperatorKind.SUPPLIER, "Shop", "ops@shop.example")
    limit = runtime.settings.login_max_failures_per_account
    for login in ("ops@shop.example", "nobody@shop.example"):
        errors = []
        for _ in range(limit):
            with pytest.raises(InvalidCredentials) as caught:
                _login(session, runtime, OperatorKind.SUPPLIER, login, "not the passphrase!")
            # The refusal's record (the failure the throttle counts), as the request's session writes it.
            assert caught.value.record is not None
            caught.value.record(session)
            errors.append((caught.value.status, caught.value.detail))
        assert len(set(errors)) == 1
        with pytest.raises(LoginThrottled) as throttled:
            _login(session, runtime, OperatorKind.SUPPLIER, login)  # even the right password now waits
        assert int(throttled.value.headers["Retry-After"]) > 0


def test_sessions_end_at_logout_expiry_and_disable(
    session: Session, runtime: Runtime, owners: tuple[str, str, str]
) -> None:
    _add(session, runtime, OperatorKind.SUPPLIER, "Shop", "ops@shop.example")
    token = _login(session, runtime, OperatorKind.SUPPLIER, "ops@shop.example")
    who = operators.authenticate(session, token, OperatorKind.SUPPLIER)
    later = utcnow() + timedelta(seconds=runtime.settings.operator_session_ttl_seconds + 1)
    with pytest.raises(InvalidOperatorSession):
        operators.authenticate(session, token, OperatorKind.SUPPLIER, now=later)
    operators.logout(session, who)
    with pytest.raises(InvalidOperatorSession):
        operators.authenticate(session, token, OperatorKind.SUPPLIER)

    second = _login(session, runtime, OperatorKind.SUPPLIER, "ops@shop.example")
    operators.disable(session, runtime, login="ops@shop.example")
    with pytest.raises(InvalidOperatorSession):
        operators.authenticate(session, second, OperatorKind.SUPPLIER)
    with pytest.raises(InvalidCredentials):
        _login(session, runtime, OperatorKind.SUPPLIER, "ops@shop.example")


def test_a_suspended_suppliers_operator_still_signs_in_to_see_its_status(
    session: Session, runtime: Runtime, owners: tuple[str, str, str]
) -> None:
    from infomediary.suppliers.models import SupplierStatus

    _add(session, runtime, OperatorKind.SUPPLIER, "Shop", "ops@shop.example")
    supplier_status.set_status(session, "Shop", SupplierStatus.SUSPENDED)
    token = _login(session, runtime, OperatorKind.SUPPLIER, "ops@shop.example")
    assert operators.authenticate(session, token, OperatorKind.SUPPLIER).owner_status == "suspended"


def test_adding_refuses_duplicates_bad_input_and_unknown_owners(
    session: Session, runtime: Runtime, owners: tuple[str, str, str]
) -> None:
    _add(session, runtime, OperatorKind.SUPPLIER, "Shop", "ops@shop.example")
    with pytest.raises(OperatorLoginTaken):
        _add(session, runtime, OperatorKind.AUDITOR, "Watchdog", "OPS@shop.example")
    with pytest.raises(OperatorPasswordRejected):
        operators.add(
            session,
            runtime,
            kind=OperatorKind.SUPPLIER,
            owner="Shop",
            login="b@shop.example",
            password="short",
        )
    with pytest.raises(OperatorLoginRejected):
        _add(session, runtime, OperatorKind.SUPPLIER, "Shop", "not-an-address")
    with pytest.raises(SupplierNotFound):
        _add(session, runtime, OperatorKind.SUPPLIER, "No Such Shop", "c@shop.example")
    with pytest.raises(auditors.AuditorNotFound):
        _add(session, runtime, OperatorKind.AUDITOR, "No Such Auditor", "d@audit.example")


@pytest.mark.committing  # scans the database file: needs what a commit leaves
def test_neither_login_nor_password_nor_token_is_stored_readable(
    runtime: Runtime, owners: tuple[str, str, str]
) -> None:
    login = "private.operator@shop.example"
    with unit_of_work(runtime.session_factory) as session:
        _add(session, runtime, OperatorKind.SUPPLIER, "Shop", login)
        token = _login(session, runtime, OperatorKind.SUPPLIER, login)
    raw = raw_database_bytes(runtime)
    for secret in (login, PASSWORD, token):
        assert secret.encode() not in raw
    # The login index is keyed and domain-separated from customers' email index.
    key = runtime.keys.secret("blind_index")
    assert operators.login_index(key, login) in raw
    assert email_index(key, login) not in raw
