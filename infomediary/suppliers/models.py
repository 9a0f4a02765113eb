"""The supplier record. Status gates every token the supplier holds."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from infomediary.database import Base, utcnow


class SupplierStatus(enum.StrEnum):
    ACTIVE = "active"
    WARNED = "warned"
    THROTTLED = "throttled"
    SUSPENDED = "suspended"


class Supplier(Base):
    __tablename__ = "suppliers"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=SupplierStatus.ACTIVE.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
