"""Auditors' reports from the log's clear dimensions: processing per supplier and purpose, and an
Article 30 style record of processing."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from infomediary.policylog import kinds
from infomediary.policylog.models import PolicyLogEntry
from infomediary.runtime import Runtime
from infomediary.suppliers.models import Supplier


@dataclass(frozen=True)
class ProcessingRow:
    supplier_id: str
    supplier_name: str | None
    purpose: str | None
    decisions: int
    permits: int
    denies: int
    releases: int
    customers_released: int
    epsilon_milli: int


def processing(session: Session) -> list[ProcessingRow]:
    """Decisions, permits, denies, releases and epsilon spent, per supplier and purpose."""
    e = PolicyLogEntry
    is_decision = e.kind == kinds.DECISION
    is_release = e.kind == kinds.RELEASE
    rows = session.execute(
        select(
            e.supplier_id,
            Supplier.name,
            e.purpose,
            func.sum(case((is_decision, 1), else_=0)),
            func.sum(case((is_decision & (e.decision == kinds.PERMIT), 1), else_=0)),
            func.sum(case((is_decision & (e.decision == kinds.DENY), 1), else_=0)),
            func.sum(case((is_release, 1), else_=0)),
            func.coalesce(func.sum(e.release_count), 0),
            func.coalesce(func.sum(e.epsilon_milli), 0),
        )
        .outerjoin(Supplier, Supplier.id == e.supplier_id)
        .where(e.supplier_id.is_not(None), e.kind.in_((kinds.DECISION, kinds.RELEASE)))
        .group_by(e.supplier_id, Supplier.name, e.purpose)
        .order_by(e.supplier_id, e.purpose)
    )
    return [
        ProcessingRow(
            s, n, p, int(d or 0), int(pe or 0), int(de or 0), int(r or 0), int(c or 0), int(eps or 0)
        )
        for s, n, p, d, pe, de, r, c, eps in rows
    ]


@dataclass(frozen=True)
class Recipient:
    supplier_id: str
    name: str
    status: str
    purposes: list[str]


@dataclass(frozen=True)
class RecordOfProcessing:
    controller: str
    contact: str
    purposes: list[str]
    categories: list[str]
    data_subjects: int
    recipients: list[Recipient]
    retention: list[str]
    safeguards: list[str] = field(default_factory=list)
    log_size: int = 0


RETENTION = [
    "Profile and activity data: until the customer erases the account; erasure destroys the customer's data "
    "key, so backups become unreadable for that customer.",
    "Policy log: kept for the life of the service; append-only and free of plaintext personal data.",
    "Login failure records: for the throttling window only.",
]
SAFEGUARDS = [
    "Per-customer AES-256-GCM envelope encryption; keys outside the database.",
    "One consent decision point for every use; every decision appended to the policy log in the same "
    "transaction.",
    "Suppliers see customers only as per-supplier keyed pseudonyms.",
    "Aggregates with differential-privacy noise, a minimum cohort and an epsilon budget per supplier.",
    "Tamper-evident RFC 6962 Merkle log with Ed25519-signed tree heads and public proofs.",
]


def article30(session: Session, runtime: Runtime) -> RecordOfProcessing:
    """A GDPR Article 30 style record, generated from what the log and the supplier table hold."""
    e = PolicyLogEntry
    purposes = sorted(
        p for p in session.scalars(select(e.purpose).where(e.purpose.is_not(None)).distinct()) if p
    )
    category_sets = session.scalars(select(e.categories).where(e.categories.is_not(None)).distinct())
    categories = sorted({c for text in category_sets if text for c in text.split()})
    subjects = session.scalar(select(func.count(func.distinct(e.subject))).where(e.subject.is_not(None)))
    per_supplier: dict[str, set[str]] = {}
    for supplier_id, purpose in session.execute(
        select(e.supplier_id, e.purpose).where(e.supplier_id.is_not(None), e.purpose.is_not(None)).distinct()
    ):
        if supplier_id and purpose:
            per_supplier.setdefault(supplier_id, set()).add(purpose)
    recipients = [
        Recipient(s.id, s.name, s.status, sorted(per_supplier.get(s.id, set())))
        for s in session.scalars(select(Supplier).order_by(Supplier.name))
    ]
    size = session.scalar(select(func.count()).select_from(e))
    return RecordOfProcessing(
        controller="Infomediary (the broker operating this service)",
        contact=runtime.settings.issuer,
        purposes=purposes,
        categories=categories,
        data_subjects=int(subjects or 0),
        recipients=recipients,
        retention=RETENTION,
        safeguards=SAFEGUARDS,
        log_size=int(size or 0),
    )
