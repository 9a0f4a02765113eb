"""Supplier privacy policies: publishing versions, the consent floor, and invalidating consents on widening.

A version that declares a purpose or category the previous one did not raises the consent floor
(`consent.policy.next_consent_floor`): every consent given under an older version is invalidated in the same
transaction (record, event and `consent.invalidated` log entry each), and the customer is asked again
through an inbox item. A narrowed or equal version leaves consents as they are.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent.policy import SupplierPolicy, next_consent_floor, widening
from consent.records import Actor, ConsentEvent, ConsentRecord, ConsentState, transition
from consent.vocabulary import Category, Purpose, ReleaseKind
from infomediary.consents import repository
from infomediary.consents.models import ConsentRecordRow, SupplierPolicyRow, SupplierRequestRow
from infomediary.consents.service import OnLeaving, floors, record_changes
from infomediary.consents.supplier_requests import ORIGIN_POLICY_CHANGE, PENDING
from infomediary.database import WriteSession, utcnow
from infomediary.ids import new_id
from infomediary.policylog import kinds
from infomediary.policylog.kinds import format_at
from infomediary.policylog.service import append as log_append
from infomediary.runtime import Runtime
from infomediary.suppliers import service as suppliers

# How long a customer has to answer the re-ask after a widened policy before it lapses from the inbox.
REASK_DAYS = 90


@dataclass(frozen=True)
class PolicyView:
    supplier_id: str
    version: int
    purposes: list[Purpose]
    categories: list[Category]
    policy_url: str | None
    published_at: datetime
    consent_floor_version: int


@dataclass(frozen=True)
class Published:
    policy: PolicyView
    widened: bool
    invalidated: int


def view(row: SupplierPolicyRow) -> PolicyView:
    policy = repository.to_policy(row)
    return PolicyView(
        supplier_id=row.supplier_id,
        version=row.version,
        purposes=[p for p in Purpose if p in policy.purposes],
        categories=[c for c in Category if c in policy.categories],
        policy_url=row.policy_url,
        published_at=row.published_at,
        consent_floor_version=row.consent_floor_version,
    )


def publish(
    session: WriteSession,
    runtime: Runtime,
    supplier_id: str,
    *,
    purposes: Iterable[Purpose],
    categories: Iterable[Category],
    policy_url: str | None,
    now: datetime | None = None,
    on_leaving: OnLeaving,
) -> Published:
    """Publish the next version; on widening, invalidate older consents and ask their customers again.

    Two publications by one supplier at once take turns (a lock on the supplier row), so the second becomes
    the next version after the first, compared with it for widening, instead of failing on the same number.
    """
    now = now or utcnow()
    suppliers.take_turns(session, supplier_id)
    old_row = repository.current_policy_row(session, supplier_id)
    old = None if old_row is None else repository.to_policy(old_row)
    new = SupplierPolicy(
        supplier_id=supplier_id,
        version=1 if old is None else old.version + 1,
        purposes=frozenset(purposes),
        categories=frozenset(categories),
        published_at=now,
        policy_url=policy_url,
    )
    floor = next_consent_floor(None if old_row is None else old_row.consent_floor_version, old, new)
    widened = old is not None and bool(widening(old, new))
    row = SupplierPolicyRow(
        supplier_id=supplier_id,
        version=new.version,
        purposes=[p.value for p in Purpose if p in new.purposes],
        categories=[c.value for c in Category if c in new.categories],
        policy_url=policy_url,
        consent_floor_version=floor,
        published_at=now,
    )
    session.add(row)
    session.flush()
    log_append(
        session,
        {
            "kind": kinds.POLICY_PUBLISHED,
            "at": format_at(now),
            "supplier_id": supplier_id,
            "categories": list(row.categories),
            "details": {"version": new.version, "consent_floor_version": floor, "widened": int(widened)},
        },
    )
    invalidated = (
        _invalidate_below(session, runtime, supplier_id, new, floor, now, on_leaving) if widened else 0
    )
    return Published(view(row), widened, invalidated)


def _invalidate_below(
    session: WriteSession,
    runtime: Runtime,
    supplier_id: str,
    new: SupplierPolicy,
    floor: int,
    now: datetime,
    on_leaving: OnLeaving,
) -> int:
    rows = session.scalars(
        select(ConsentRecordRow)
        .where(
            ConsentRecordRow.supplier_id == supplier_id,
            ConsentRecordRow.state.in_([ConsentState.GIVEN.value, ConsentState.REQUESTED.value]),
            ConsentRecordRow.policy_version < floor,
        )
        .order_by(ConsentRecordRow.customer_id, ConsentRecordRow.id)
    ).all()
    changes: list[tuple[ConsentRecordRow | None, ConsentRecord, ConsentEvent]] = []
    reask: dict[tuple[str, str], list[str]] = {}
    reason = f"privacy policy version {new.version} widened the use this consent was given for"
    for row in rows:
        record = repository.to_record(row)
        if record.state is ConsentState.GIVEN and not (record.expires_at and record.expires_at <= now):
            reask.setdefault((row.customer_id, row.purpose), []).append(row.category or "*")
        changed, event = transition(
            record,
            ConsentState.INVALIDATED,
            at=max(now, record.updated_at),
            actor=Actor.SYSTEM,
            reason=reason,
        )
        changes.append((row, changed, event))
    if changes:
        record_changes(session, runtime, changes, on_leaving=on_leaving)
    for (customer_id, purpose), categories in reask.items():
        session.add(
            SupplierRequestRow(
                id=new_id("req"),
                supplier_id=supplier_id,
                customer_id=customer_id,
                origin=ORIGIN_POLICY_CHANGE,
                purpose=purpose,
                categories=categories,
                release_kind=ReleaseKind.PSEUDONYMOUS_SLICE.value,
                price_offered=0,
                policy_version=new.version,
                expires_at=now + timedelta(days=REASK_DAYS),
                status=PENDING,
                created_at=now,
            )
        )
    session.flush()
    return len(changes)


def current(session: Session, supplier_id: str) -> PolicyView | None:
    row = repository.current_policy_row(session, supplier_id)
    return None if row is None else view(row)


def history(session: Session, supplier_id: str) -> list[PolicyView]:
    return [view(r) for r in repository.policy_history(session, supplier_id)]


def current_views(session: Session, supplier_ids: set[str]) -> dict[str, PolicyView]:
    """The current policy of each of these suppliers that published one (for the consumer's portfolio)."""
    return {s: view(r) for s, r in floors(session, supplier_ids).items()}
