"""The optional second factor: a TOTP authenticator (RFC 6238, with pyotp) and ten recovery codes.

The shared secret is sealed under the customer's erasure key (`Vault.seal_bound`): it must be read back for
every code, so it cannot be hashed, and once she is erased no copy of it opens, backups included. Recovery
codes are kept as HMAC tags under a key derived from that same erasure key (`Vault.tag_bound`): matched
without being stored, and not guessable from a database copy alone.

Replay: a code is accepted for a time step only if that step is later than the last one accepted, so a code
seen over a shoulder or in a log cannot be used again, nor an older one after it.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from infomediary.customers.errors import CodeIncorrect, SecondFactorAlreadyOn, SecondFactorNotStarted
from infomediary.customers.models import RecoveryCode, SecondFactor
from infomediary.database import WriteSession
from infomediary.runtime import Runtime

SECRET_LABEL = "totp-secret"  # noqa: S105 - the label a secret is sealed under, not a secret
RECOVERY_LABEL = "recovery-code"
RECOVERY_CODES = 10
# Ten characters without look-alikes (no 0/o, 1/l/i): about 49 bits each, typed from paper.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_LENGTH = 10
STEP_SECONDS = 30
# Codes of the step before and after count too: a phone's clock a little off, a code typed at the turn.
DRIFT_STEPS = 1
DIGITS = 6


@dataclass(frozen=True)
class Enrolment:
    """What the customer's authenticator app needs, shown to her once."""

    secret: str
    uri: str


@dataclass(frozen=True)
class Status:
    enabled: bool
    since: datetime | None
    recovery_codes_left: int


def enabled(session: Session, customer_id: str) -> bool:
    return (
        session.scalar(
            select(SecondFactor.customer_id).where(
                SecondFactor.customer_id == customer_id, SecondFactor.confirmed_at.is_not(None)
            )
        )
        is not None
    )


def status(session: Session, customer_id: str) -> Status:
    factor = session.get(SecondFactor, customer_id)
    confirmed = factor.confirmed_at if factor is not None else None
    left = session.scalar(select(func.count()).where(RecoveryCode.customer_id == customer_id)) or 0
    return Status(enabled=confirmed is not None, since=confirmed, recovery_codes_left=int(left))


def begin(
    session: WriteSession, runtime: Runtime, customer_id: str, *, label: str, now: datetime
) -> Enrolment:
    """A new secret, pending until `confirm`; replaces a pending one. `label` names the account in the app."""
    factor = session.get(SecondFactor, customer_id)
    if factor is not None and factor.confirmed_at is not None:
        raise SecondFactorAlreadyOn()
    secret = pyotp.random_base32()  # 160 bits, RFC 4226's recommended length
    sealed = runtime.vault.seal_bound(customer_id, SECRET_LABEL, secret.encode())
    if factor is None:
        session.add(SecondFactor(customer_id=customer_id, secret_sealed=sealed, created_at=now))
    else:
        factor.secret_sealed, factor.created_at, factor.last_step = sealed, now, None
    session.flush()
    return _enrolment(runtime, secret, label)


def pending(session: Session, runtime: Runtime, customer_id: str, *, label: str) -> Enrolment | None:
    """The authenticator being set up, to show again after a mistyped first code; None once it is on."""
    factor = session.get(SecondFactor, customer_id)
    if factor is None or factor.confirmed_at is not None:
        return None
    secret = runtime.vault.open_bound(customer_id, SECRET_LABEL, factor.secret_sealed).decode()
    return _enrolment(runtime, secret, label)


def _enrolment(runtime: Runtime, secret: str, label: str) -> Enrolment:
    uri = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=label, issuer_name=runtime.settings.controller_name
    )
    return Enrolment(secret=secret, uri=uri)


def confirm(
    session: WriteSession, runtime: Runtime, customer_id: str, code: str, *, now: datetime
) -> list[str]:
    """Switch the pending authenticator on with its first code; returns the recovery codes, shown once."""
    factor = _locked(session, customer_id)
    if factor is None or factor.confirmed_at is not None:
        raise SecondFactorNotStarted()
    step = _totp_step(runtime, factor, code, now)
    if step is None:
        raise CodeIncorrect()
    factor.confirmed_at, factor.last_step = now, step
    return _new_recovery_codes(session, runtime, customer_id)


def remove(session: WriteSession, customer_id: str) -> None:
    """Switch the second factor off: the authenticator and the recovery codes are forgotten."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.customer_id == customer_id))
    session.execute(delete(SecondFactor).where(SecondFactor.customer_id == customer_id))


def accept(session: WriteSession, runtime: Runtime, customer_id: str, code: str, *, now: datetime) -> bool:
    """Whether `code` (a current TOTP code, or an unused recovery code) proves the second factor; it is
    then spent: the code's time step, or the recovery code itself."""
    factor = _locked(session, customer_id)
    if factor is None or factor.confirmed_at is None:
        return False
    if _looks_like_totp(code):
        step = _totp_step(runtime, factor, code, now)
        if step is None:
            return False
        factor.last_step = step
        session.flush()
        return True
    return _spend_recovery_code(session, runtime, customer_id, code)


def _locked(session: WriteSession, customer_id: str) -> SecondFactor | None:
    # Locked until the transaction ends: two requests with the same code cannot both see its step unused.
    return session.scalar(
        select(SecondFactor).where(SecondFactor.customer_id == customer_id).with_for_update()
    )


def _looks_like_totp(code: str) -> bool:
    digits = code.replace(" ", "")
    return len(digits) == DIGITS and digits.isascii() and digits.isdigit()


def _totp_step(runtime: Runtime, factor: SecondFactor, code: str, now: datetime) -> int | None:
    """The time step whose code `code` is, among those allowed and later than the last accepted; or None."""
    if not _looks_like_totp(code):
        return None
    given = code.replace(" ", "").encode()
    secret = runtime.vault.open_bound(factor.customer_id, SECRET_LABEL, factor.secret_sealed).decode()
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = int(now.timestamp()) // STEP_SECONDS
    found = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        # Every candidate compared, in constant time: how long this takes says nothing of which matched.
        if hmac.compare_digest(totp.generate_otp(step).encode(), given) and found is None:
            found = step
    if found is None or (factor.last_step is not None and found <= factor.last_step):
        return None
    return found


def normalise_recovery_code(code: str) -> str:
    return "".join(c for c in code.casefold() if c.isalnum())


def _tag(runtime: Runtime, customer_id: str, code: str) -> bytes:
    return runtime.vault.tag_bound(customer_id, RECOVERY_LABEL, normalise_recovery_code(code).encode())


def _new_recovery_codes(session: WriteSession, runtime: Runtime, customer_id: str) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.customer_id == customer_id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    session.add_all(
        RecoveryCode(customer_id=customer_id, code_tag=_tag(runtime, customer_id, c)) for c in codes
    )
    session.flush()
    return codes


def _spend_recovery_code(session: WriteSession, runtime: Runtime, customer_id: str, code: str) -> bool:
    if len(normalise_recovery_code(code)) != RECOVERY_LENGTH:
        return False
    # Found by its tag, which nobody without her erasure key can compute: equality in SQL leaks nothing.
    spent = session.execute(
        delete(RecoveryCode)
        .where(
            RecoveryCode.customer_id == customer_id, RecoveryCode.code_tag == _tag(runtime, customer_id, code)
        )
        .returning(RecoveryCode.id)
    ).first()
    return spent is not None
