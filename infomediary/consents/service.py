"""The consumer's consent portfolio: grant, refuse, withdraw one or all, list, history and receipts.

Every change writes the record, its event and its policy-log entry in the caller's transaction, and the
API commits that transaction before it answers: a withdrawal is in force before its response returns.
Expiry and invalidation are computed at decision time; when a record is touched again its stored state is
first brought up to date (`settle`), so the history shows when it lapsed.

A change that leaves consent permitting less has consequences outside this package (cached audience answers,
undelivered events): every function that can make one takes them as `on_leaving` (`OnLeaving`), supplied by
the application's flows (`infomediary.flows.consent_changed.records_left`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent.errors import InvalidTransition
from consent.records import (
    ALL_CATEGORIES,
    ALL_SUPPLIERS,
    Actor,
    ConsentEvent,
    ConsentRecord,
    ConsentState,
    effective_state,
    open_record,
    transition,
)
from consent.vocabulary import Category, Purpose
from infomediary.consents import receipts, repository
from infomediary.consents.entries import consent_event_entry
from infomediary.consents.errors import (
    ConsentNotFound,
    ConsentTransitionNotAllowed,
    InvalidConsentInput,
    PolicyRequired,
    ReceiptNotFound,
    SupplierUnknown,
)
from infomediary.consents.models import ConsentEventRow, ConsentRecordRow, SupplierPolicyRow
from infomediary.database import WriteSession, utcnow
from infomediary.ids import new_id
from infomediary.policylog.service import append_at_commit
from infomediary.runtime import Runtime
from infomediary.suppliers.models import Supplier

OnLeaving = Callable[[WriteSession, Sequence[str]], None]
"""What follows when consent records of these customers moved to a state that permits less.

A parameter, not an import: the consequences belong to packages above this one. It runs at the moment of
the change, in its transaction and before anything later in the same call: a lapsed grant that `settle`
records and the customer then gives again must not keep what the lapse dropped.
"""


@dataclass(frozen=True)
class Change:
    """A record after a change, and the signed receipt issued for it."""

    record: ConsentRecord
    state: ConsentState
    receipt_id: str
    receipt: str


@dataclass(frozen=True)
class WithdrawAll:
    count: int
    receipt_id: str | None
    receipt: str | None


@dataclass(frozen=True)
class EventView:
    from_state: str | None
    to_state: str
    at: datetime
    actor: str
    reason: str
    receipt_id: str | None


# A change to one of these states leaves consent permitting less: `on_leaving` follows it.
_LEAVING = frozenset(
    {ConsentState.REFUSED, ConsentState.WITHDRAWN, ConsentState.EXPIRED, ConsentState.INVALIDATED}
)


def floors(session: Session, supplier_ids: set[str]) -> dict[str, SupplierPolicyRow]:
    """The current policy row of each supplier (those that published one)."""
    current: dict[str, SupplierPolicyRow] = {}
    if not supplier_ids:
        return current
    rows = session.scalars(select(SupplierPolicyRow).where(SupplierPolicyRow.supplier_id.in_(supplier_ids)))
    for row in rows:
        if row.supplier_id not in current or row.version > current[row.supplier_id].version:
            current[row.supplier_id] = row
    return current


def state_now(record: ConsentRecord, now: datetime, policy: SupplierPolicyRow | None) -> ConsentState:
    """The record's effective state at `now` (expired, invalidated) under its supplier's current floor."""
    floor = policy.consent_floor_version if policy is not None else 1
    return effective_state(record, now, floor)


def record_changes(
    session: WriteSession,
    runtime: Runtime,
    changes: Sequence[tuple[ConsentRecordRow | None, ConsentRecord, ConsentEvent]],
    *,
    on_leaving: OnLeaving,
    receipt: tuple[str, str] | None = None,
) -> None:
    """Store new record states, their events (with the receipt issued, if any) and their log entries."""
    for row, record, _ in changes:
        if row is None:
            session.add(repository.new_row(record))
        else:
            repository.apply_record(row, record)
    # Records first: without ORM relationships the unit of work does not order inserts by foreign key.
    session.flush()
    for _, record, event in changes:
        session.add(
            ConsentEventRow(
                record_id=record.record_id,
                from_state=None if event.from_state is None else event.from_state.value,
                to_state=event.to_state.value,
                at=event.at,
                actor=event.actor.value,
                reason=event.reason,
                receipt_id=None if receipt is None else receipt[0],
                receipt=None if receipt is None else receipt[1],
            )
        )
    session.flush()
    leaving = sorted({record.customer_id for _, record, event in changes if event.to_state in _LEAVING})
    if leaving:
        on_leaving(session, leaving)
    append_at_commit(
        session,
        [
            consent_event_entry(runtime, record, event)
            for _, record, event in changes
            if event.to_state is not ConsentState.REQUESTED
        ],
    )


def settle(
    session: WriteSession, runtime: Runtime, row: ConsentRecordRow, now: datetime, *, on_leaving: OnLeaving
) -> ConsentRecord:
    """Bring the stored state up to date with expiry and invalidation before changing the record."""
    record = repository.to_record(row)
    policy = floors(session, {row.supplier_id}).get(row.supplier_id) if row.supplier_id else None
    state = state_now(record, now, policy)
    if state is record.state:
        return record
    reason = (
        "expired"
        if state is ConsentState.EXPIRED
        else "a wider privacy policy replaced the one it was given under"
    )
    new, event = transition(record, state, at=max(now, record.updated_at), actor=Actor.SYSTEM, reason=reason)
    record_changes(session, runtime, [(row, new, event)], on_leaving=on_leaving)
    return new


def supplier_names(session: Session, supplier_ids: set[str]) -> dict[str, str]:
    if not supplier_ids:
        return {}
    rows = session.execute(select(Supplier.id, Supplier.name).where(Supplier.id.in_(supplier_ids)))
    return {supplier_id: name for supplier_id, name in rows}


def answer(
    session: WriteSession,
    runtime: Runtime,
    customer_id: str,
    *,
    state: ConsentState,
    supplier_id: str | None,
    purpose: Purpose,
    categories: Sequence[Category | None],
    expires_at: datetime | None = None,
    price: int | None = None,
    reason: str | None = None,
    now: datetime | None = None,
    on_leaving: OnLeaving,
) -> list[Change]:
    """Grant (`given`) or refuse (`refused`) scopes, one receipt for all; `None` means "all"."""
    if state not in (ConsentState.GIVEN, ConsentState.REFUSED):
        raise InvalidConsentInput("a customer answers with 'given' or 'refused'")
    now = now or utcnow()
    if expires_at is not None and expires_at <= now:
        raise InvalidConsentInput("expires_at must be in the future")
    version: int | None = None
    if supplier_id is not None:
        if session.get(Supplier, supplier_id) is None:
            raise SupplierUnknown()
        policy = repository.current_policy_row(session, supplier_id)
        if policy is None and state is ConsentState.GIVEN:
            raise PolicyRequired("consent to a supplier is given under its published privacy policy")
        version = None if policy is None else policy.version
    reason = reason or (
        "granted by the customer" if state is ConsentState.GIVEN else "refused by the customer"
    )
    changes: list[tuple[ConsentRecordRow | None, ConsentRecord, ConsentEvent]] = []
    for category in dict.fromkeys(categories):
        row = repository.find_scope(session, customer_id, supplier_id, purpose, category)
        try:
            if row is None:
                record, event = open_record(
                    record_id=new_id("con"),
                    customer_id=customer_id,
                    supplier=ALL_SUPPLIERS if supplier_id is None else supplier_id,
                    purpose=purpose,
                    category=ALL_CATEGORIES if category is None else category,
                    state=state,
                    at=now,
                    actor=Actor.CUSTOMER,
                    reason=reason,
                    policy_version=version,
                    expires_at=expires_at,
                    price=price,
                )
            else:
                current = settle(session, runtime, row, now, on_leaving=on_leaving)
                record, event = transition(
                    current,
                    state,
                    at=max(now, current.updated_at),
                    actor=Actor.CUSTOMER,
                    reason=reason,
                    policy_version=version,
                    expires_at=expires_at,
                    price=price,
                )
        except InvalidTransition as exc:
            hint = "; withdraw it instead" if exc.to_state == ConsentState.REFUSED.value else ""
            raise ConsentTransitionNotAllowed(f"{exc}{hint}") from exc
        changes.append((row, record, event))
    return _with_receipt(session, runtime, changes, state, now, on_leaving)


def _with_receipt(
    session: WriteSession,
    runtime: Runtime,
    changes: Sequence[tuple[ConsentRecordRow | None, ConsentRecord, ConsentEvent]],
    state: ConsentState,
    now: datetime,
    on_leaving: OnLeaving,
) -> list[Change]:
    records = [record for _, record, _ in changes]
    names = supplier_names(session, {r.supplier for r in records if isinstance(r.supplier, str)})
    receipt = receipts.issue(runtime, records, status=state, at=now, supplier_names=names)
    record_changes(session, runtime, changes, on_leaving=on_leaving, receipt=receipt)
    return [Change(record, state, receipt[0], receipt[1]) for record in records]


def _own_row(session: Session, customer_id: str, record_id: str) -> ConsentRecordRow:
    row = session.get(ConsentRecordRow, record_id)
    # Another customer's record is indistinguishable from a missing one.
    if row is None or row.customer_id != customer_id:
        raise ConsentNotFound()
    return row


def withdraw(
    session: WriteSession,
    runtime: Runtime,
    customer_id: str,
    record_id: str,
    *,
    now: datetime | None = None,
    on_leaving: OnLeaving,
) -> Change:
    """Withdraw one consent in force."""
    now = now or utcnow()
    row = _own_row(session, customer_id, record_id)
    current = settle(session, runtime, row, now, on_leaving=on_leaving)
    try:
        record, event = transition(
            current,
            ConsentState.WITHDRAWN,
            at=max(now, current.updated_at),
            actor=Actor.CUSTOMER,
            reason="withdrawn by the customer",
        )
    except InvalidTransition as exc:
        raise ConsentTransitionNotAllowed(str(exc)) from exc
    return _with_receipt(session, runtime, [(row, record, event)], ConsentState.WITHDRAWN, now, on_leaving)[0]


def withdraw_all(
    session: WriteSession,
    runtime: Runtime,
    customer_id: str,
    *,
    now: datetime | None = None,
    on_leaving: OnLeaving,
) -> WithdrawAll:
    """Withdraw every consent in force, in one transaction, with one receipt listing them all."""
    now = now or utcnow()
    rows = [r for r in repository.record_rows(session, customer_id) if r.state == ConsentState.GIVEN.value]
    changes: list[tuple[ConsentRecordRow | None, ConsentRecord, ConsentEvent]] = []
    for row in rows:
        current = settle(session, runtime, row, now, on_leaving=on_leaving)
        if current.state is not ConsentState.GIVEN:
            continue
        record, event = transition(
            current,
            ConsentState.WITHDRAWN,
            at=max(now, current.updated_at),
            actor=Actor.CUSTOMER,
            reason="withdrawn by the customer (withdraw all)",
        )
        changes.append((row, record, event))
    if not changes:
        return WithdrawAll(0, None, None)
    done = _with_receipt(session, runtime, changes, ConsentState.WITHDRAWN, now, on_leaving)
    return WithdrawAll(len(done), done[0].receipt_id, done[0].receipt)


def list_records(
    session: Session, customer_id: str, *, cursor: str | None, limit: int
) -> tuple[list[ConsentRecord], str | None]:
    """One page of the customer's records across every supplier, in a stable order; and the next cursor."""
    query = select(ConsentRecordRow).where(ConsentRecordRow.customer_id == customer_id)
    if cursor:
        query = query.where(ConsentRecordRow.id > cursor)
    rows = session.scalars(query.order_by(ConsentRecordRow.id).limit(limit + 1)).all()
    page = [repository.to_record(r) for r in rows[:limit]]
    return page, (page[-1].record_id if len(rows) > limit else None)


def get_record(session: Session, customer_id: str, record_id: str) -> ConsentRecord:
    return repository.to_record(_own_row(session, customer_id, record_id))


def events(session: Session, customer_id: str, record_id: str) -> list[EventView]:
    _own_row(session, customer_id, record_id)
    rows = session.scalars(
        select(ConsentEventRow).where(ConsentEventRow.record_id == record_id).order_by(ConsentEventRow.id)
    )
    return [EventView(r.from_state, r.to_state, r.at, r.actor, r.reason, r.receipt_id) for r in rows]


def latest_receipt(session: Session, customer_id: str, record_id: str) -> tuple[str, str]:
    _own_row(session, customer_id, record_id)
    row = session.scalars(
        select(ConsentEventRow)
        .where(ConsentEventRow.record_id == record_id, ConsentEventRow.receipt.is_not(None))
        .order_by(ConsentEventRow.id.desc())
        .limit(1)
    ).first()
    if row is None or row.receipt_id is None or row.receipt is None:
        raise ReceiptNotFound()
    return row.receipt_id, row.receipt
