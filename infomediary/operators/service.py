"""Operator accounts: add one (command line), log in, authenticate a session, log out.

The same rules as consumer logins, through the same parts: argon2id (`Passwords`), a keyed blind index of the
login, the database-backed throttle per account and per client address, and 256-bit session tokens stored
only as SHA-256 hashes. Services flush, never commit.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from infomediary.auditors import service as auditors
from infomediary.customers import throttle
from infomediary.customers.blind_index import normalise_email
from infomediary.customers.service import IssuedSession, hash_session_token
from infomediary.database import WriteSession, utcnow
from infomediary.ids import new_id
from infomediary.operators import repository
from infomediary.operators.errors import (
    InvalidOperatorSession,
    OperatorLoginRejected,
    OperatorLoginTaken,
    OperatorNotFound,
    OperatorPasswordRejected,
)
from infomediary.operators.models import Operator, OperatorKind, OperatorSession
from infomediary.runtime import Runtime
from infomediary.suppliers import service as suppliers

MIN_PASSWORD = 12
MAX_PASSWORD = 256
MAX_LOGIN = 254


@dataclass(frozen=True)
class OperatorView:
    id: str
    kind: OperatorKind
    owner_id: str
    owner_name: str
    created_at: datetime


@dataclass(frozen=True)
class AuthenticatedOperator:
    """Who is signed in: the operator, and the one supplier or auditor every page is scoped to."""

    operator_id: str
    session_id: str
    kind: OperatorKind
    owner_id: str
    owner_name: str
    owner_status: str


def login_index(key: bytes, login: str) -> bytes:
    # Its own domain: the same address gives a different index here than in the customers' table.
    return hmac.new(key, b"operator\x00" + normalise_email(login).encode(), hashlib.sha256).digest()


def _check_password(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise OperatorPasswordRejected(f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters")


def add(
    session: WriteSession, runtime: Runtime, *, kind: OperatorKind, owner: str, login: str, password: str
) -> OperatorView:
    """An operator for the supplier or auditor named `owner` (its name or id)."""
    login = login.strip()
    if not login or len(login) > MAX_LOGIN or "@" not in login:
        raise OperatorLoginRejected(f"the login is an email address of at most {MAX_LOGIN} characters")
    _check_password(password)
    index = login_index(runtime.keys.secret("blind_index"), login)
    if repository.get_by_login_index(session, index) is not None:
        raise OperatorLoginTaken()
    if kind is OperatorKind.SUPPLIER:
        supplier = suppliers.find(session, owner)
        owner_id, owner_name, supplier_id, auditor_id = supplier.id, supplier.name, supplier.id, None
    else:
        auditor = auditors.find(session, owner)
        owner_id, owner_name, supplier_id, auditor_id = auditor.id, auditor.name, None, auditor.id
    operator = Operator(
        id=new_id("opr"),
        kind=kind.value,
        supplier_id=supplier_id,
        auditor_id=auditor_id,
        login_index=index,
        password_hash=runtime.passwords.hash(password),
    )
    session.add(operator)
    session.flush()
    return OperatorView(operator.id, kind, owner_id, owner_name, operator.created_at)


def login(
    session: WriteSession,
    runtime: Runtime,
    *,
    kind: OperatorKind,
    login: str,
    password: str,
    client_address: str,
    now: datetime | None = None,
) -> IssuedSession:
    """A session for an active operator of `kind`; any other outcome is the same `InvalidCredentials`."""
    now = now or utcnow()
    settings = runtime.settings
    index = login_index(runtime.keys.secret("blind_index"), login)
    operator = repository.get_by_login_index(session, index)
    usable = operator is not None and operator.status == "active" and operator.kind == kind.value
    throttle.password_attempt(
        session,
        runtime,
        login_index=index,
        client_address=client_address,
        password_hash=operator.password_hash if usable and operator else None,
        password=password,
        now=now,
    )
    assert operator is not None  # verified against its hash above
    if runtime.passwords.needs_rehash(operator.password_hash):
        operator.password_hash = runtime.passwords.hash(password)
    token = secrets.token_urlsafe(32)
    ttl = settings.operator_session_ttl_seconds
    expires_at = now + timedelta(seconds=ttl)
    session.add(
        OperatorSession(
            id=new_id("ops"),
            token_hash=hash_session_token(token),
            operator_id=operator.id,
            created_at=now,
            expires_at=expires_at,
        )
    )
    session.flush()
    return IssuedSession(token=token, expires_at=expires_at, expires_in=ttl)


def authenticate(
    session: Session, token: str, kind: OperatorKind, now: datetime | None = None
) -> AuthenticatedOperator:
    """The operator behind a live session token, only if it is of `kind` (a supplier's operator is not an
    auditor, and the other way round). An auditor must be active; a supplier's operator still signs in when
    the supplier is suspended, to see why."""
    found = repository.get_live_session(session, hash_session_token(token), now or utcnow())
    if found is None:
        raise InvalidOperatorSession()
    session_id, operator_id, found_kind, owner_id, owner_name, owner_status = found
    if found_kind != kind.value or (kind is OperatorKind.AUDITOR and owner_status != "active"):
        raise InvalidOperatorSession()
    return AuthenticatedOperator(operator_id, session_id, kind, owner_id, owner_name, owner_status)


def logout(session: WriteSession, operator: AuthenticatedOperator, now: datetime | None = None) -> None:
    row = session.get(OperatorSession, operator.session_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = now or utcnow()
        session.flush()


def disable(
    session: WriteSession, runtime: Runtime, *, login: str, now: datetime | None = None
) -> OperatorView:
    """Disable an operator and end every session it has (command line)."""
    operator = repository.get_by_login_index(session, login_index(runtime.keys.secret("blind_index"), login))
    if operator is None:
        raise OperatorNotFound()
    operator.status = "disabled"
    repository.revoke_sessions(session, operator.id, now or utcnow())
    session.flush()
    return _view(session, operator)


def _view(session: Session, operator: Operator) -> OperatorView:
    if operator.supplier_id is not None:
        owner = suppliers.find(session, operator.supplier_id)
        return OperatorView(operator.id, OperatorKind.SUPPLIER, owner.id, owner.name, operator.created_at)
    assert operator.auditor_id is not None
    found = auditors.find(session, operator.auditor_id)
    return OperatorView(operator.id, OperatorKind.AUDITOR, found.id, found.name, operator.created_at)
