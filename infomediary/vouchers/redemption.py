"""The supplier's side of vouchers: redeem a code given at its checkout (`vouchers:redeem`).

The answer holds the voucher's id, value and redemption time: nothing of who bought it, which the broker does
not store in the clear either (`models`). The value moves from the broker's escrow to the supplier exactly
once: a conditional update marks the voucher redeemed only if it still is spendable (racing twins: one wins,
the other finds it redeemed), and the ledger transaction, keyed by the supplier's Idempotency-Key, is in the
same database transaction. Repeating the key answers the first redemption again.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

from infomediary.database import WriteSession, utcnow
from infomediary.ledger import service as ledger
from infomediary.ledger.errors import IdempotencyKeyRequired, IdempotencyKeyReused
from infomediary.ledger.models import TransactionKind
from infomediary.runtime import Runtime
from infomediary.vouchers import code, repository
from infomediary.vouchers.errors import (
    VoucherAlreadyRedeemed,
    VoucherCodeMalformed,
    VoucherExpired,
    VoucherNotFound,
)
from infomediary.vouchers.models import VoucherRow


@dataclass(frozen=True)
class Redemption:
    voucher_id: str
    value: int
    redeemed_at: datetime
    # True when this Idempotency-Key had redeemed the voucher before: nothing moved this time.
    replayed: bool


def _answer_again(row: VoucherRow, idempotency_key: str) -> Redemption:
    """What a voucher that is no longer spendable answers: the first redemption again to its own key, else
    the reason it cannot be spent."""
    if row.redeemed_at is not None:
        if row.redemption_key is not None and hmac.compare_digest(
            row.redemption_key.encode(), idempotency_key.encode()
        ):
            return Redemption(row.id, row.value, row.redeemed_at, replayed=True)
        raise VoucherAlreadyRedeemed()
    raise VoucherExpired(f"it expired at {row.expires_at.isoformat()}")


def redeem(
    session: WriteSession,
    runtime: Runtime,
    supplier_id: str,
    typed_code: str,
    *,
    idempotency_key: str | None,
    now: datetime | None = None,
) -> Redemption:
    """Redeem the code for the supplier. Another supplier's voucher is `VoucherNotFound`, as is a code that
    names none; `VoucherAlreadyRedeemed` (409) and `VoucherExpired` (410) say why a voucher of its own is
    not spendable."""
    now = now or utcnow()
    if not idempotency_key:
        raise IdempotencyKeyRequired("a redemption moves credits: send an Idempotency-Key header")
    try:
        secret = code.parse(typed_code)
    except code.MalformedCode as exc:
        raise VoucherCodeMalformed(str(exc)) from None
    wanted = code.code_hash(runtime.keys.secret("voucher_code"), secret)
    row = repository.by_code_hash(session, wanted)
    if row is None or row.supplier_id != supplier_id or not hmac.compare_digest(row.code_hash, wanted):
        raise VoucherNotFound()
    if row.redeemed_at is not None or row.refunded_at is not None or row.expires_at <= now:
        return _answer_again(row, idempotency_key)
    if not repository.mark_redeemed(session, row.id, idempotency_key, now):
        # A racing request took it first (on PostgreSQL this one waited for it to commit): read what it did.
        taken = repository.by_code_hash(session, wanted)
        if taken is None:
            raise VoucherNotFound()
        return _answer_again(taken, idempotency_key)
    posted = ledger.post(
        session,
        kind=TransactionKind.VOUCHER_REDEEMED,
        postings=[(ledger.BROKER, -row.value), (ledger.supplier(supplier_id), row.value)],
        idempotency_key=idempotency_key,
        initiator=f"supplier:{supplier_id}",
        credit_line=runtime.settings.supplier_credit_line,
        reference=row.id,
    )
    if posted.replayed:
        # The key already paid for another voucher of the same value: this one stays unspent (rolled back).
        raise IdempotencyKeyReused(f"Idempotency-Key {idempotency_key!r} was used for another redemption")
    return Redemption(row.id, row.value, now, replayed=False)
