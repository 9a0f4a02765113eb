"""The pseudonyms handed to suppliers (the table `supplier_pseudonyms`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from infomediary.database import Base, utcnow


class SupplierPseudonymRow(Base):
    """A pairwise pseudonym handed to a supplier, so that the supplier's later requests can be resolved."""

    __tablename__ = "supplier_pseudonyms"
    __table_args__ = (UniqueConstraint("supplier_id", "customer_id"),)

    supplier_id: Mapped[str] = mapped_column(ForeignKey("suppliers.id", ondelete="CASCADE"), primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
