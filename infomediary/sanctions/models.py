"""Findings and sanctions recorded by auditors against suppliers."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from infomediary.database import Base, utcnow


class Severity(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class SanctionKind(enum.StrEnum):
    WARNING = "warning"
    STRIKE = "strike"
    PENALTY = "penalty"
    SUSPENSION = "suspension"


class AuditFinding(Base):
    __tablename__ = "audit_findings"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    auditor_id: Mapped[str] = mapped_column(ForeignKey("auditors.id"), index=True)
    supplier_id: Mapped[str] = mapped_column(ForeignKey("suppliers.id"), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(String(4000))
    leaf_index: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SupplierSanction(Base):
    __tablename__ = "supplier_sanctions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # NULL for a sanction the broker recorded itself (an automatic strike for differencing or budget abuse).
    auditor_id: Mapped[str | None] = mapped_column(ForeignKey("auditors.id"), index=True)
    supplier_id: Mapped[str] = mapped_column(ForeignKey("suppliers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(500))
    leaf_index: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
