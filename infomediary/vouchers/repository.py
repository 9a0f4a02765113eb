"""Queries of vouchers: by code, by the holder's and the issue's bound tags, and the conditional updates that
make redemption and refund happen once however many requests race."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select, tuple_, update
from sqlalchemy.orm import Session

from infomediary.database import WriteSession
from infomediary.suppliers.models import Supplier
from infomediary.vouchers.models import VoucherRow


def by_code_hash(session: Session, code_hash: bytes) -> VoucherRow | None:
    return session.scalar(
        select(VoucherRow).where(VoucherRow.code_hash == code_hash).execution_options(populate_existing=True)
    )


def by_issue_tag(session: Session, issue_tag: bytes) -> VoucherRow | None:
    return session.scalar(
        select(VoucherRow).where(VoucherRow.issue_tag == issue_tag).execution_options(populate_existing=True)
    )


def holder_page(
    session: Session, holder_tag: bytes, *, after: str | None, limit: int
) -> Sequence[VoucherRow]:
    """The holder's vouchers, latest expiry first; `after` is the last voucher id of the previous page (one
    that is not hers gives the first page: it names nothing she can page from)."""
    query = select(VoucherRow).where(VoucherRow.holder_tag == holder_tag)
    if after is not None:
        last = session.execute(
            select(VoucherRow.expires_at, VoucherRow.id).where(
                VoucherRow.id == after, VoucherRow.holder_tag == holder_tag
            )
        ).first()
        if last is not None:
            query = query.where(tuple_(VoucherRow.expires_at, VoucherRow.id) < tuple_(*last))
    newest = query.order_by(VoucherRow.expires_at.desc(), VoucherRow.id.desc())
    return session.scalars(newest.limit(limit)).all()


def mark_redeemed(session: WriteSession, voucher_id: str, redemption_key: str, now: datetime) -> bool:
    """Redeem the voucher if it is still spendable; False if another transaction redeemed or refunded it
    first. On PostgreSQL a racing twin waits for the row lock, then finds the condition false."""
    result = session.execute(
        update(VoucherRow)
        .where(
            VoucherRow.id == voucher_id,
            VoucherRow.redeemed_at.is_(None),
            VoucherRow.refunded_at.is_(None),
            VoucherRow.expires_at > now,
        )
        .values(redeemed_at=now, redemption_key=redemption_key)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def take_expired(session: WriteSession, holder_tag: bytes, now: datetime) -> list[tuple[str, int]]:
    """Mark the holder's expired, unspent, unrefunded vouchers refunded, in one statement; (id, value) of
    each. What a racing redemption or refund took first is not among them."""
    rows = session.execute(
        update(VoucherRow)
        .where(
            VoucherRow.holder_tag == holder_tag,
            VoucherRow.redeemed_at.is_(None),
            VoucherRow.refunded_at.is_(None),
            VoucherRow.expires_at <= now,
        )
        .values(refunded_at=now)
        .returning(VoucherRow.id, VoucherRow.value)
        .execution_options(synchronize_session=False)
    )
    return [(voucher_id, int(value)) for voucher_id, value in rows]


def unlink_holder(session: WriteSession, holder_tag: bytes) -> int:
    """Clear every value bound to the holder from her vouchers; how many there were."""
    result = session.execute(
        update(VoucherRow)
        .where(VoucherRow.holder_tag == holder_tag)
        .values(holder_tag=None, issue_tag=None, code_sealed=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def supplier_names(session: Session, supplier_ids: Iterable[str]) -> dict[str, str]:
    wanted = set(supplier_ids)
    if not wanted:
        return {}
    rows = session.execute(select(Supplier.id, Supplier.name).where(Supplier.id.in_(wanted)))
    return {supplier_id: name for supplier_id, name in rows}
