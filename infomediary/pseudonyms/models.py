"""The pseudonyms handed to suppliers (the table `supplier_pseudonyms`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from infomediary.database import Base, utcnow


class SupplierPseudonymRow(Base):
    """A pseudonym handed to a supplier, so that the supplier's later requests can be resolved.

    `release_id` is None for the customer's stable pairwise pseudonym (one per supplier and customer) and
    names the slice release for a per-release one (one per release and customer, so the pair repeats).
    """

    __tablename__ = "supplier_pseudonyms"
    __table_args__ = (
        # One stable pseudonym per pair; release rows repeat the pair once per release.
        Index(
            "uq_supplier_pseudonyms_stable",
            "supplier_id",
            "customer_id",
            unique=True,
            sqlite_where=text("release_id IS NULL"),
            postgresql_where=text("release_id IS NULL"),
        ),
    )

    supplier_id: Mapped[str] = mapped_column(ForeignKey("suppliers.id", ondelete="CASCADE"), primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    release_id: Mapped[str | None] = mapped_column(String(40))
