"""Queries of the customer's vault tables. Rows hold ciphertext; decrypting is the services' job."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import Session

from infomediary.database import PreparedRead, WriteSession, among
from infomediary.profiles.models import (
    ActivityRecord,
    CustomerKey,
    ProcessingRestriction,
    ProfileChange,
    ProfileField,
)

# Built once, straight to asyncpg (`PreparedRead`): the data key is read for every seal and open.
_WRAPPED_KEY = PreparedRead(
    select(CustomerKey.wrapped_key).where(CustomerKey.customer_id == bindparam("customer_id"))
)


def wrapped_key(session: Session, customer_id: str) -> bytes | None:
    row = _WRAPPED_KEY.first(session, {"customer_id": customer_id})
    return None if row is None else bytes(row[0])


def profile_fields(session: Session, customer_id: str) -> Sequence[ProfileField]:
    return session.scalars(select(ProfileField).where(ProfileField.customer_id == customer_id)).all()


def changes_page(session: Session, customer_id: str, after_id: int, limit: int) -> Sequence[ProfileChange]:
    return session.scalars(
        select(ProfileChange)
        .where(ProfileChange.customer_id == customer_id, ProfileChange.id > after_id)
        .order_by(ProfileChange.id)
        .limit(limit)
    ).all()


def activity_page(
    session: Session, customer_id: str, after_id: int, limit: int, kind: str | None = None
) -> Sequence[ActivityRecord]:
    query = select(ActivityRecord).where(
        ActivityRecord.customer_id == customer_id, ActivityRecord.id > after_id
    )
    if kind is not None:
        query = query.where(ActivityRecord.kind == kind)
    return session.scalars(query.order_by(ActivityRecord.id).limit(limit)).all()


def records_of_kind(
    session: Session, customer_id: str, kind: str, since: datetime | None = None
) -> Sequence[ActivityRecord]:
    query = select(ActivityRecord).where(
        ActivityRecord.customer_id == customer_id, ActivityRecord.kind == kind
    )
    if since is not None:
        query = query.where(ActivityRecord.occurred_at >= since)
    return session.scalars(query.order_by(ActivityRecord.occurred_at)).all()


_r = ActivityRecord
# Built once (an expanding IN of kinds): read on every recommendation request.
_RECORDS_OF_KINDS = (
    select(_r.id, _r.kind, _r.occurred_at, _r.schema_version, _r.ciphertext)
    .where(_r.customer_id == bindparam("customer_id"), _r.kind.in_(bindparam("kinds", expanding=True)))
    .order_by(_r.occurred_at, _r.id)
)
_RESTRICTED = select(ProcessingRestriction.customer_id).where(
    ProcessingRestriction.customer_id == bindparam("customer_id")
)


def records_of_kinds(session: Session, customer_id: str, kinds: Sequence[str]) -> Sequence[Any]:
    """The customer's records of several kinds at once, in time order (one query, not one per kind), as
    plain rows of the columns `activity.open_record` reads: no ORM identity map on a per-request hot path."""
    return session.execute(_RECORDS_OF_KINDS, {"customer_id": customer_id, "kinds": list(kinds)}).all()


def is_restricted(session: Session, customer_id: str) -> bool:
    """Whether processing is restricted: one prebuilt query of the key only (the decision point's path)."""
    return session.execute(_RESTRICTED, {"customer_id": customer_id}).first() is not None


def restriction(session: Session, customer_id: str) -> ProcessingRestriction | None:
    return session.get(ProcessingRestriction, customer_id)


def restricted_among(session: Session, customer_ids: Sequence[str]) -> set[str]:
    """Which of `customer_ids` have restricted processing (a few queries for any number of customers)."""
    found: set[str] = set()
    for start in range(0, len(customer_ids), 500):
        chunk = customer_ids[start : start + 500]
        query = select(ProcessingRestriction.customer_id).where(
            among(session, ProcessingRestriction.customer_id, chunk)
        )
        found.update(session.scalars(query))
    return found


def keys_per_version(session: Session) -> dict[int, int]:
    rows = session.execute(
        select(CustomerKey.kek_version, func.count()).group_by(CustomerKey.kek_version)
    ).all()
    return {int(row[0]): int(row[1]) for row in rows}


def keys_below_version(session: WriteSession, version: int, limit: int) -> Sequence[CustomerKey]:
    return session.scalars(
        select(CustomerKey)
        .where(CustomerKey.kek_version < version)
        .order_by(CustomerKey.customer_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()


def delete_customer_rows(session: WriteSession, customer_id: str) -> dict[str, int]:
    """Delete every vault row of the customer; returns how many rows of each kind went."""
    counts: dict[str, int] = {}
    for name, table in (
        ("activity_records", ActivityRecord),
        ("profile_changes", ProfileChange),
        ("profile_fields", ProfileField),
        ("processing_restrictions", ProcessingRestriction),
        ("customer_keys", CustomerKey),
    ):
        result = session.execute(delete(table).where(table.customer_id == customer_id))
        counts[name] = int(result.rowcount)  # type: ignore[attr-defined]
    return counts


def wrapped_keys(session: Session, customer_ids: Sequence[str]) -> dict[str, bytes]:
    """Wrapped data keys of many customers at once (one query per batch, not one per customer)."""
    rows = session.execute(
        select(CustomerKey.customer_id, CustomerKey.wrapped_key).where(
            among(session, CustomerKey.customer_id, customer_ids)
        )
    )
    return {customer_id: wrapped for customer_id, wrapped in rows}


def fields_of(
    session: Session, customer_ids: Sequence[str], fields: Sequence[str]
) -> Sequence[tuple[str, str, int, bytes]]:
    """(customer, field, schema version, ciphertext) of the stored `fields` of many customers: only the
    fields asked, so nothing else is even read; plain rows, since a slice reads thousands and building an ORM
    object for each cost more than the query."""
    rows = session.execute(
        select(
            ProfileField.customer_id, ProfileField.field, ProfileField.schema_version, ProfileField.ciphertext
        ).where(
            among(session, ProfileField.customer_id, customer_ids), among(session, ProfileField.field, fields)
        )
    )
    return [(r[0], r[1], r[2], r[3]) for r in rows]
