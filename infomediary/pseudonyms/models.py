"""The stable pseudonyms handed to suppliers (the table `supplier_pseudonyms`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from infomediary.database import Base, utcnow


class SupplierPseudonymRow(Base):
    """That a supplier was handed the customer's stable pseudonym: for her list of who knows her, and so
    that a stable pseudonym resolves only where it was handed over.

    The pseudonym itself is not stored: it is computed from her customer id, which only the vault's
    erasure-key store knows, so a database backup cannot tie a pseudonym a supplier kept to this row
    (`pseudonyms.service`). Release pseudonyms are not recorded at all.
    """

    __tablename__ = "supplier_pseudonyms"

    supplier_id: Mapped[str] = mapped_column(ForeignKey("suppliers.id", ondelete="CASCADE"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
