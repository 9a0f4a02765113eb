"""Recording findings and sanctions: a table row and a policy-log entry in one transaction.

Every sanction re-evaluates the supplier's status in the same transaction (`sanctions.status`): strikes
move it along active → warned → throttled → suspended, and a suspension's tokens stop working at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from infomediary.database import WriteSession
from infomediary.ids import new_id
from infomediary.policylog import kinds
from infomediary.policylog.service import append
from infomediary.sanctions import status
from infomediary.sanctions.models import AuditFinding, SanctionKind, Severity, SupplierSanction
from infomediary.settings import Settings
from infomediary.suppliers.errors import SupplierNotFound
from infomediary.suppliers.models import Supplier, SupplierStatus


@dataclass(frozen=True)
class Recorded:
    id: str
    supplier_id: str
    leaf_index: int
    created_at: datetime


def _supplier(session: Session, supplier_id: str) -> Supplier:
    supplier = session.get(Supplier, supplier_id)
    if supplier is None:
        raise SupplierNotFound(f"no supplier with id {supplier_id!r}")
    return supplier


def record_finding(
    session: WriteSession, *, auditor_id: str, supplier_id: str, severity: Severity, text: str
) -> Recorded:
    _supplier(session, supplier_id)
    finding_id = new_id("fnd")
    # The log commits to the finding's text by hash: auditors' prose stays out of the public log.
    receipt = append(
        session,
        {
            "kind": kinds.FINDING_RECORDED,
            "supplier_id": supplier_id,
            "details": {
                "finding_id": finding_id,
                "severity": severity.value,
                "text_sha256": hashlib.sha256(text.encode()).hexdigest(),
            },
        },
    )
    finding = AuditFinding(
        id=finding_id,
        auditor_id=auditor_id,
        supplier_id=supplier_id,
        severity=severity.value,
        text=text,
        leaf_index=receipt.leaf_index,
    )
    session.add(finding)
    session.flush()
    return Recorded(finding.id, supplier_id, receipt.leaf_index, finding.created_at)


def record_sanction(
    session: WriteSession,
    settings: Settings,
    *,
    auditor_id: str | None,
    supplier_id: str,
    kind: SanctionKind,
    reason: str,
    sanction_id: str | None = None,
    details: Mapping[str, str | int] | None = None,
) -> Recorded:
    """Record a sanction by an auditor, or by the broker itself when `auditor_id` is None.

    The supplier's status is re-evaluated in the same transaction (`sanctions.status`): strikes and warnings
    may raise it, a suspension suspends at once.
    """
    supplier = _supplier(session, supplier_id)
    sanction_id = sanction_id or new_id("snc")
    receipt = append(
        session,
        {
            "kind": kinds.SANCTION_RECORDED,
            "supplier_id": supplier_id,
            "reason": reason,
            # Said in the log itself: a customer reading it must not take the broker's check for an auditor.
            "by": kinds.BY_SYSTEM if auditor_id is None else kinds.BY_AUDITOR,
            "details": {"sanction_id": sanction_id, "sanction": kind.value, **(details or {})},
        },
    )
    sanction = SupplierSanction(
        id=sanction_id,
        auditor_id=auditor_id,
        supplier_id=supplier_id,
        kind=kind.value,
        reason=reason,
        leaf_index=receipt.leaf_index,
    )
    session.add(sanction)
    session.flush()
    if kind is SanctionKind.SUSPENSION:
        status.raise_to(session, supplier, SupplierStatus.SUSPENDED, "suspended by an auditor")
    elif kind is SanctionKind.WARNING:
        status.raise_to(session, supplier, SupplierStatus.WARNED, "warned by an auditor")
    elif kind is SanctionKind.STRIKE:
        status.reevaluate(session, supplier, settings)
    return Recorded(sanction.id, supplier_id, receipt.leaf_index, sanction.created_at)


def record_strike(session: WriteSession, settings: Settings, *, supplier_id: str, reason: str) -> Recorded:
    """A strike the broker records on its own (no auditor), for an attack pattern or an undeclared use;
    logged with the system as its actor (`by: "system"`), never as an auditor's.

    It counts like an auditor's strike (`repository.strike_count` counts every strike), so customers'
    "only suppliers without strikes" terms apply to the supplier from the next decision on, and it moves
    the supplier's status (`sanctions.status`) in the same transaction.
    """
    return record_sanction(
        session, settings, auditor_id=None, supplier_id=supplier_id, kind=SanctionKind.STRIKE, reason=reason
    )
