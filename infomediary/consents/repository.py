"""Queries of the consent tables and the translation between rows and the `consent` library's values."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session

from consent.policy import PolicyInForce, SupplierPolicy
from consent.records import ALL_CATEGORIES, ALL_SUPPLIERS, ConsentPortfolio, ConsentRecord, ConsentState
from consent.terms import (
    MinPrice,
    NeverCategory,
    NeverPurpose,
    OnlyUnstruckSuppliers,
    StandingTerm,
    StandingTerms,
)
from consent.vocabulary import Category, Purpose
from infomediary.consents.models import (
    ConsentRecordRow,
    PrivacySignalRow,
    StandingTermRow,
    SupplierPolicyRow,
)
from infomediary.database import WriteSession, among, upsert_insert

# Standing-term kinds as stored.
NEVER_CATEGORY = "never_category"
NEVER_PURPOSE = "never_purpose"
MIN_PRICE = "min_price"
ONLY_UNSTRUCK_SUPPLIERS = "only_unstruck_suppliers"


def to_record(row: ConsentRecordRow) -> ConsentRecord:
    return ConsentRecord(
        record_id=row.id,
        customer_id=row.customer_id,
        supplier=ALL_SUPPLIERS if row.supplier_id is None else row.supplier_id,
        purpose=Purpose(row.purpose),
        category=ALL_CATEGORIES if row.category is None else Category(row.category),
        state=ConsentState(row.state),
        created_at=row.created_at,
        updated_at=row.updated_at,
        policy_version=row.policy_version,
        expires_at=row.expires_at,
        price=row.price,
    )


def apply_record(row: ConsentRecordRow, record: ConsentRecord) -> None:
    """Copy the mutable fields of `record` (the result of a transition) onto its row."""
    row.state = record.state.value
    row.updated_at = record.updated_at
    row.policy_version = record.policy_version
    row.expires_at = record.expires_at
    row.price = record.price


def new_row(record: ConsentRecord) -> ConsentRecordRow:
    return ConsentRecordRow(
        id=record.record_id,
        customer_id=record.customer_id,
        supplier_id=None if record.supplier is ALL_SUPPLIERS else record.supplier,
        purpose=record.purpose.value,
        category=None if record.category is ALL_CATEGORIES else record.category.value,
        state=record.state.value,
        expires_at=record.expires_at,
        price=record.price,
        policy_version=record.policy_version,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def record_rows(
    session: Session, customer_id: str, *, supplier_id: str | None = None, purpose: Purpose | None = None
) -> Sequence[ConsentRecordRow]:
    """The customer's records; with a supplier and purpose, only those that can match such a request."""
    query = select(ConsentRecordRow).where(ConsentRecordRow.customer_id == customer_id)
    if supplier_id is not None:
        query = query.where(
            or_(ConsentRecordRow.supplier_id == supplier_id, ConsentRecordRow.supplier_id.is_(None))
        )
    if purpose is not None:
        query = query.where(ConsentRecordRow.purpose == purpose.value)
    return session.scalars(query.order_by(ConsentRecordRow.id)).all()


# Built once: the decision point's per-customer loads run on every supplier read (building a select costs
# more than running it on an indexed key).
_RECORDS_FOR = (
    select(ConsentRecordRow)
    .where(
        ConsentRecordRow.customer_id == bindparam("customer_id"),
        or_(ConsentRecordRow.supplier_id == bindparam("supplier_id"), ConsentRecordRow.supplier_id.is_(None)),
        ConsentRecordRow.purpose == bindparam("purpose"),
    )
    .order_by(ConsentRecordRow.id)
)
_TERMS_OF = (
    select(StandingTermRow)
    .where(StandingTermRow.customer_id == bindparam("customer_id"))
    .order_by(StandingTermRow.created_at, StandingTermRow.id)
)
_CURRENT_POLICY = (
    select(SupplierPolicyRow)
    .where(SupplierPolicyRow.supplier_id == bindparam("supplier_id"))
    .order_by(SupplierPolicyRow.version.desc())
    .limit(1)
)
_PRIVACY_SIGNAL = select(PrivacySignalRow).where(PrivacySignalRow.customer_id == bindparam("customer_id"))


def load_portfolio(
    session: Session, customer_id: str, *, supplier_id: str | None = None, purpose: Purpose | None = None
) -> ConsentPortfolio:
    if supplier_id is not None and purpose is not None:
        params = {"customer_id": customer_id, "supplier_id": supplier_id, "purpose": purpose.value}
        rows: Sequence[ConsentRecordRow] = session.scalars(_RECORDS_FOR, params).all()
    else:
        rows = record_rows(session, customer_id, supplier_id=supplier_id, purpose=purpose)
    return ConsentPortfolio.of(customer_id, (to_record(r) for r in rows))


# Customers per IN list: well under SQLite's and PostgreSQL's bound-parameter limits.
MANY_CHUNK = 500


def _chunks(customer_ids: Sequence[str]) -> list[Sequence[str]]:
    return [customer_ids[i : i + MANY_CHUNK] for i in range(0, len(customer_ids), MANY_CHUNK)]


def load_portfolios(
    session: Session, customer_ids: Sequence[str], *, supplier_id: str, purpose: Purpose
) -> dict[str, ConsentPortfolio]:
    """`load_portfolio` for many customers in a few queries (every customer gets one, maybe empty)."""
    found: dict[str, list[ConsentRecord]] = {cid: [] for cid in customer_ids}
    for chunk in _chunks(customer_ids):
        rows = session.scalars(
            select(ConsentRecordRow)
            .where(
                among(session, ConsentRecordRow.customer_id, chunk),
                or_(ConsentRecordRow.supplier_id == supplier_id, ConsentRecordRow.supplier_id.is_(None)),
                ConsentRecordRow.purpose == purpose.value,
            )
            .order_by(ConsentRecordRow.customer_id, ConsentRecordRow.id)
        )
        for row in rows:
            found[row.customer_id].append(to_record(row))
    return {cid: ConsentPortfolio.of(cid, records) for cid, records in found.items()}


def load_portfolio_for_suppliers(
    session: Session, customer_id: str, supplier_ids: Sequence[str]
) -> ConsentPortfolio:
    """The customer's records that can match a request by any of these suppliers, for any purpose: those
    naming one of them and those for every supplier (what `load_portfolio` reads, for many at once)."""
    named = among(session, ConsentRecordRow.supplier_id, supplier_ids) if supplier_ids else None
    scope = (
        ConsentRecordRow.supplier_id.is_(None)
        if named is None
        else or_(named, ConsentRecordRow.supplier_id.is_(None))
    )
    rows = session.scalars(
        select(ConsentRecordRow)
        .where(ConsentRecordRow.customer_id == customer_id, scope)
        .order_by(ConsentRecordRow.id)
    )
    return ConsentPortfolio.of(customer_id, (to_record(r) for r in rows))


def find_scope(
    session: Session, customer_id: str, supplier_id: str | None, purpose: Purpose, category: Category | None
) -> ConsentRecordRow | None:
    """The record of exactly this (supplier, purpose, category) scope, wildcards as NULL."""
    supplier_match = (
        ConsentRecordRow.supplier_id.is_(None)
        if supplier_id is None
        else ConsentRecordRow.supplier_id == supplier_id
    )
    category_match = (
        ConsentRecordRow.category.is_(None)
        if category is None
        else ConsentRecordRow.category == category.value
    )
    return session.scalars(
        select(ConsentRecordRow)
        .where(
            ConsentRecordRow.customer_id == customer_id,
            ConsentRecordRow.purpose == purpose.value,
            supplier_match,
            category_match,
        )
        .order_by(ConsentRecordRow.updated_at.desc())
        .limit(1)
    ).first()


def named_scope_rows(
    session: Session, customer_id: str, supplier_ids: Sequence[str]
) -> dict[tuple[str, Purpose, Category], ConsentRecordRow]:
    """The customer's records naming one of these suppliers and one category, by that exact scope (the
    latest changed where several share it, as `find_scope` picks)."""
    found: dict[tuple[str, Purpose, Category], ConsentRecordRow] = {}
    if not supplier_ids:
        return found
    rows = session.scalars(
        select(ConsentRecordRow)
        .where(
            ConsentRecordRow.customer_id == customer_id,
            among(session, ConsentRecordRow.supplier_id, supplier_ids),
            ConsentRecordRow.category.is_not(None),
        )
        .order_by(ConsentRecordRow.updated_at)
    )
    for row in rows:
        if row.supplier_id is not None and row.category is not None:
            found[(row.supplier_id, Purpose(row.purpose), Category(row.category))] = row
    return found


def to_term(row: StandingTermRow) -> StandingTerm:
    if row.kind == NEVER_CATEGORY and row.category is not None:
        return NeverCategory(row.id, Category(row.category))
    if row.kind == NEVER_PURPOSE and row.purpose is not None:
        return NeverPurpose(row.id, Purpose(row.purpose))
    if row.kind == MIN_PRICE and row.credits is not None:
        return MinPrice(row.id, row.credits, None if row.category is None else Category(row.category))
    if row.kind == ONLY_UNSTRUCK_SUPPLIERS:
        return OnlyUnstruckSuppliers(row.id)
    raise ValueError(f"malformed standing term {row.id}")


def term_rows(session: Session, customer_id: str) -> Sequence[StandingTermRow]:
    return session.scalars(_TERMS_OF, {"customer_id": customer_id}).all()


def load_terms(session: Session, customer_id: str) -> StandingTerms:
    return StandingTerms.of(customer_id, (to_term(r) for r in term_rows(session, customer_id)))


def load_terms_many(session: Session, customer_ids: Sequence[str]) -> dict[str, StandingTerms]:
    """`load_terms` for many customers in a few queries (every customer gets terms, maybe none)."""
    found: dict[str, list[StandingTerm]] = {cid: [] for cid in customer_ids}
    for chunk in _chunks(customer_ids):
        rows = session.scalars(
            select(StandingTermRow)
            .where(among(session, StandingTermRow.customer_id, chunk))
            .order_by(StandingTermRow.customer_id, StandingTermRow.created_at, StandingTermRow.id)
        )
        for row in rows:
            found[row.customer_id].append(to_term(row))
    return {cid: StandingTerms.of(cid, terms) for cid, terms in found.items()}


def privacy_signals(session: Session, customer_ids: Sequence[str]) -> dict[str, PrivacySignalRow]:
    found: dict[str, PrivacySignalRow] = {}
    for chunk in _chunks(customer_ids):
        query = select(PrivacySignalRow).where(among(session, PrivacySignalRow.customer_id, chunk))
        found.update((row.customer_id, row) for row in session.scalars(query))
    return found


def to_policy(row: SupplierPolicyRow) -> SupplierPolicy:
    return SupplierPolicy(
        supplier_id=row.supplier_id,
        version=row.version,
        purposes=frozenset(Purpose(p) for p in row.purposes),
        categories=frozenset(Category(c) for c in row.categories),
        published_at=row.published_at,
        policy_url=row.policy_url,
    )


def current_policy_row(session: Session, supplier_id: str) -> SupplierPolicyRow | None:
    return session.scalars(_CURRENT_POLICY, {"supplier_id": supplier_id}).first()


def policy_history(session: Session, supplier_id: str) -> Sequence[SupplierPolicyRow]:
    return session.scalars(
        select(SupplierPolicyRow)
        .where(SupplierPolicyRow.supplier_id == supplier_id)
        .order_by(SupplierPolicyRow.version.desc())
    ).all()


_p = SupplierPolicyRow
# Plain columns, built once: every decision reads the policy in force, and no caller needs the ORM row.
_POLICY_IN_FORCE = (
    select(_p.version, _p.purposes, _p.categories, _p.published_at, _p.policy_url, _p.consent_floor_version)
    .where(_p.supplier_id == bindparam("supplier_id"))
    .order_by(_p.version.desc())
    .limit(1)
)


def policy_in_force(session: Session, supplier_id: str, now: datetime) -> PolicyInForce:
    """The supplier's current policy; a supplier that published none declares nothing (every use denied)."""
    row = session.execute(_POLICY_IN_FORCE, {"supplier_id": supplier_id}).first()
    if row is None:
        return PolicyInForce(SupplierPolicy(supplier_id, 1, frozenset(), frozenset(), now), 1)
    policy = SupplierPolicy(
        supplier_id=supplier_id,
        version=row.version,
        purposes=frozenset(Purpose(p) for p in row.purposes),
        categories=frozenset(Category(c) for c in row.categories),
        published_at=row.published_at,
        policy_url=row.policy_url,
    )
    return PolicyInForce(policy, row.consent_floor_version)


def policies_in_force(
    session: Session, supplier_ids: Sequence[str], now: datetime
) -> dict[str, PolicyInForce]:
    """`policy_in_force` of each of these suppliers, in one query (every supplier gets one)."""
    found: dict[str, SupplierPolicyRow] = {}
    if supplier_ids:
        rows = session.scalars(
            select(SupplierPolicyRow).where(among(session, SupplierPolicyRow.supplier_id, supplier_ids))
        )
        for row in rows:
            if row.supplier_id not in found or row.version > found[row.supplier_id].version:
                found[row.supplier_id] = row
    out: dict[str, PolicyInForce] = {}
    for supplier_id in supplier_ids:
        latest = found.get(supplier_id)
        if latest is None:
            out[supplier_id] = PolicyInForce(SupplierPolicy(supplier_id, 1, frozenset(), frozenset(), now), 1)
        else:
            out[supplier_id] = PolicyInForce(to_policy(latest), latest.consent_floor_version)
    return out


def privacy_signal(session: Session, customer_id: str) -> PrivacySignalRow | None:
    return session.scalars(_PRIVACY_SIGNAL, {"customer_id": customer_id}).first()


def insert_gpc_signal(session: WriteSession, customer_id: str, at: datetime) -> bool:
    """Record the customer's GPC opt-out at `at` unless one is already in force; True if this call did.

    Safe against a concurrent first signal for the same customer: the insert does nothing on conflict (on
    PostgreSQL it waits for the other transaction and then finds its row), and the update of a lapsed
    signal matches only while it is still lapsed, so exactly one of the racers records and logs it.
    """
    # RETURNING rather than rowcount: an ORM-enabled INSERT reports no row count (-1) on PostgreSQL.
    inserted = session.execute(
        upsert_insert(session, PrivacySignalRow)
        .values(customer_id=customer_id, gpc=True, recorded_at=at)
        .on_conflict_do_nothing(index_elements=[PrivacySignalRow.customer_id])
        .returning(PrivacySignalRow.customer_id)
    ).scalar_one_or_none()
    if inserted is not None:
        return True
    updated = session.execute(
        update(PrivacySignalRow)
        .where(PrivacySignalRow.customer_id == customer_id, PrivacySignalRow.gpc.is_(False))
        .values(gpc=True, recorded_at=at)
        .returning(PrivacySignalRow.customer_id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    return updated is not None
