"""Operator accounts (a person acting for one supplier or one auditor) and their sessions.

Kept apart from consumer accounts on purpose: a different table, a different session table and a different
cookie, so a consumer session can never be taken for an operator's or the other way round.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from infomediary.database import Base, utcnow


class OperatorKind(enum.StrEnum):
    SUPPLIER = "supplier"
    AUDITOR = "auditor"


class Operator(Base):
    __tablename__ = "operators"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'supplier' AND supplier_id IS NOT NULL AND auditor_id IS NULL) "
            "OR (kind = 'auditor' AND auditor_id IS NOT NULL AND supplier_id IS NULL)",
            name="one_owner",
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    supplier_id: Mapped[str | None] = mapped_column(
        ForeignKey("suppliers.id", ondelete="CASCADE"), index=True
    )
    auditor_id: Mapped[str | None] = mapped_column(ForeignKey("auditors.id", ondelete="CASCADE"), index=True)
    # Keyed HMAC of the normalised login email, domain-separated from customers' email index: the login is
    # never stored readable, and an operator who is also a customer cannot be matched across the two tables.
    login_index: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class OperatorSession(Base):
    __tablename__ = "operator_sessions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # SHA-256 of a 256-bit random token, as for consumer sessions.
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    operator_id: Mapped[str] = mapped_column(ForeignKey("operators.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
