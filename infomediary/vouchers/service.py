"""The customer's side of vouchers: issue one from her credits, list hers, get back what expired unspent.

Issuing moves her credits to the broker (escrow) in one ledger transaction that names no voucher, and stores
the voucher with only values bound to her erasure key (`models`). The supplier is paid from the escrow when
it redeems the code (`redemption`). A voucher that expires unspent is refunded lazily, the next time she
lists her vouchers or issues one (`settle`): the broker cannot find whose it is without her erasure key and
her id, which only her own requests bring, so no scheduled job could do it without a plain link kept for it.

When she erases her account (`release_holder`) her expired vouchers are refunded first, then the bound
values are cleared from every voucher of hers: an unspent one stays spendable as the bearer instrument it
is (whoever holds the code may still spend it; the supplier is paid from the escrow, so the books stay
balanced), and no row ties any of them to her any more.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy.orm import Session

from infomediary.database import WriteSession, utcnow
from infomediary.ids import new_id
from infomediary.ledger import service as ledger
from infomediary.ledger.errors import IdempotencyKeyRequired, IdempotencyKeyReused
from infomediary.ledger.models import TransactionKind
from infomediary.runtime import Runtime
from infomediary.suppliers import service as suppliers
from infomediary.suppliers.models import SupplierStatus
from infomediary.vouchers import code, repository
from infomediary.vouchers.errors import InvalidVoucher
from infomediary.vouchers.models import VoucherRow

MIN_VALUE = 1
MAX_VALUE = 100_000
MAX_DAYS = 366

ACTIVE = "active"
REDEEMED = "redeemed"
EXPIRED = "expired"

# What each bound value is tagged or sealed under (`Vault.tag_bound`, `Vault.seal_bound`).
_HOLDER = "voucher.holder"
_ISSUE = "voucher.issue"
_CODE = "voucher.code"
_REFUND = "voucher.refund"


@dataclass(frozen=True)
class VoucherView:
    """A voucher as its holder sees it. `code` only while it can be spent and she is its known holder."""

    id: str
    supplier_id: str
    supplier_name: str
    value: int
    expires_at: datetime
    state: str
    redeemed_at: datetime | None
    refunded_at: datetime | None
    code: str | None


@dataclass(frozen=True)
class Issued:
    voucher: VoucherView
    # True when the Idempotency-Key had made this voucher before: nothing was charged this time.
    replayed: bool


@dataclass(frozen=True)
class SupplierChoice:
    id: str
    name: str


def expiry(now: datetime, days: int) -> datetime:
    """Midnight UTC at the end of the day `days` from now: a voucher lives `days` to `days + 1` days, and its
    expiry says only on which day it was issued, not when (see `models`)."""
    last_day = (now.astimezone(UTC) + timedelta(days=days)).date()
    return datetime.combine(last_day + timedelta(days=1), time(), tzinfo=UTC)


def state_of(row: VoucherRow, now: datetime) -> str:
    if row.redeemed_at is not None:
        return REDEEMED
    if row.refunded_at is not None or row.expires_at <= now:
        return EXPIRED
    return ACTIVE


def _holder_tag(runtime: Runtime, customer_id: str) -> bytes:
    return runtime.vault.tag_bound(customer_id, _HOLDER, b"")


def _code_label(voucher_id: str) -> str:
    # The voucher id in the label: a sealed code moved to another of her rows does not open there.
    return f"{_CODE}:{voucher_id}"


def _fingerprint(supplier_id: str, value: int, days: int) -> str:
    content = {"supplier_id": supplier_id, "value": value, "days": days}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def _views(
    session: Session, runtime: Runtime, customer_id: str, rows: Sequence[VoucherRow], now: datetime
) -> list[VoucherView]:
    names = repository.supplier_names(session, (row.supplier_id for row in rows))
    views = []
    for row in rows:
        state = state_of(row, now)
        shown = None
        if state == ACTIVE and row.code_sealed is not None:
            shown = runtime.vault.open_bound(customer_id, _code_label(row.id), row.code_sealed).decode()
        views.append(
            VoucherView(
                id=row.id,
                supplier_id=row.supplier_id,
                supplier_name=names.get(row.supplier_id, row.supplier_id),
                value=row.value,
                expires_at=row.expires_at,
                state=state,
                redeemed_at=row.redeemed_at,
                refunded_at=row.refunded_at,
                code=shown,
            )
        )
    return views


def _check(session: Session, supplier_id: str, value: int, days: int) -> None:
    if not MIN_VALUE <= value <= MAX_VALUE:
        raise InvalidVoucher(f"a voucher is worth from {MIN_VALUE} to {MAX_VALUE} credits")
    if not 1 <= days <= MAX_DAYS:
        raise InvalidVoucher(f"a voucher lasts from 1 to {MAX_DAYS} days")
    supplier = suppliers.get_own(session, supplier_id)  # SupplierNotFound
    if supplier.status == SupplierStatus.SUSPENDED.value:
        # A suspended supplier cannot call the API, so the voucher could only wait for its refund.
        raise InvalidVoucher(f"{supplier.name} is suspended and cannot take vouchers now")


def issue(
    session: WriteSession,
    runtime: Runtime,
    customer_id: str,
    *,
    supplier_id: str,
    value: int,
    days: int,
    idempotency_key: str | None,
    now: datetime | None = None,
) -> Issued:
    """Turn `value` of her credits into a voucher for the supplier, valid `days` (to the end of that day).

    Raises `InsufficientCredits` (nothing changed) when her balance is lower, `InvalidVoucher` for bounds
    and suspended suppliers. A repeated Idempotency-Key returns the voucher it made, code included.
    """
    now = now or utcnow()
    if not idempotency_key:
        raise IdempotencyKeyRequired("a voucher spends credits: send an Idempotency-Key header")
    fingerprint = _fingerprint(supplier_id, value, days)
    issue_tag = runtime.vault.tag_bound(customer_id, _ISSUE, idempotency_key.encode())
    made = repository.by_issue_tag(session, issue_tag)
    if made is not None:
        return _replayed(session, runtime, customer_id, made, fingerprint, idempotency_key, now)
    _check(session, supplier_id, value, days)
    # Before the debit: what expired unspent is hers again and counts towards this one.
    settle(session, runtime, customer_id, now)
    # The debit first: it locks her account, so a twin of this request waits here and then replays.
    posted = ledger.post(
        session,
        kind=TransactionKind.VOUCHER_ISSUED,
        postings=[(ledger.customer(customer_id), -value), (ledger.BROKER, value)],
        idempotency_key=idempotency_key,
        initiator=f"customer:{customer_id}",
        # Only suppliers have a credit line; a customer's balance may not go below zero (`ledger.post`).
        credit_line=0,
    )
    if posted.replayed:
        # A twin of this request committed while this one waited for her account.
        made = repository.by_issue_tag(session, issue_tag)
        return _replayed(session, runtime, customer_id, made, fingerprint, idempotency_key, now)
    secret = code.new_secret()
    shown = code.render(secret)
    voucher_id = new_id("vch")
    row = VoucherRow(
        id=voucher_id,
        supplier_id=supplier_id,
        value=value,
        expires_at=expiry(now, days),
        code_hash=code.code_hash(runtime.keys.secret("voucher_code"), secret),
        holder_tag=_holder_tag(runtime, customer_id),
        issue_tag=issue_tag,
        code_sealed=runtime.vault.seal_bound(customer_id, _code_label(voucher_id), shown.encode()),
        fingerprint=fingerprint,
    )
    session.add(row)
    session.flush()
    return Issued(_views(session, runtime, customer_id, [row], now)[0], replayed=False)


def _replayed(
    session: Session,
    runtime: Runtime,
    customer_id: str,
    made: VoucherRow | None,
    fingerprint: str,
    idempotency_key: str,
    now: datetime,
) -> Issued:
    if made is None or made.fingerprint != fingerprint:
        raise IdempotencyKeyReused(f"Idempotency-Key {idempotency_key!r} was used for another request")
    return Issued(_views(session, runtime, customer_id, [made], now)[0], replayed=True)


def settle(session: WriteSession, runtime: Runtime, customer_id: str, now: datetime | None = None) -> int:
    """Refund her vouchers that expired unspent, once each, in one ledger transaction; what it refunded."""
    now = now or utcnow()
    taken = repository.take_expired(session, _holder_tag(runtime, customer_id), now)
    total = sum(value for _, value in taken)
    if total == 0:
        return 0
    # Keyed by a tag of the vouchers' ids under her erasure key: unique, and no voucher id in her ledger.
    ids = ",".join(sorted(voucher_id for voucher_id, _ in taken))
    key = runtime.vault.tag_bound(customer_id, _REFUND, ids.encode()).hex()
    ledger.post(
        session,
        kind=TransactionKind.VOUCHER_REFUND,
        postings=[(ledger.BROKER, -total), (ledger.customer(customer_id), total)],
        idempotency_key=key,
        initiator="broker",
        credit_line=0,
    )
    return total


def list_own(
    session: WriteSession,
    runtime: Runtime,
    customer_id: str,
    *,
    cursor: str | None,
    limit: int,
    now: datetime | None = None,
) -> tuple[list[VoucherView], str | None]:
    """Her vouchers, latest expiry first, one page, after refunding what expired; and the next cursor."""
    now = now or utcnow()
    settle(session, runtime, customer_id, now)
    return page_of(session, runtime, customer_id, cursor=cursor, limit=limit, now=now)


def page_of(
    session: Session,
    runtime: Runtime,
    customer_id: str,
    *,
    cursor: str | None,
    limit: int,
    now: datetime,
) -> tuple[list[VoucherView], str | None]:
    """One page of her vouchers as they stand, without refunding anything (her export reads this)."""
    rows = repository.holder_page(session, _holder_tag(runtime, customer_id), after=cursor, limit=limit + 1)
    page = list(rows[:limit])
    next_cursor = page[-1].id if len(rows) > limit and page else None
    return _views(session, runtime, customer_id, page, now), next_cursor


def release_holder(session: WriteSession, runtime: Runtime, customer_id: str, now: datetime) -> int:
    """At her erasure, before her key is destroyed: refund what expired, then clear every value bound to her
    from her vouchers (see the module docstring). How many vouchers were hers."""
    settle(session, runtime, customer_id, now)
    return repository.unlink_holder(session, _holder_tag(runtime, customer_id))


def supplier_choices(session: Session) -> list[SupplierChoice]:
    """The suppliers a voucher can be issued for, by name: every one not suspended."""
    return [
        SupplierChoice(s.id, s.name)
        for s in sorted(suppliers.list_all(session), key=lambda s: s.name.casefold())
        if s.status != SupplierStatus.SUSPENDED.value
    ]
