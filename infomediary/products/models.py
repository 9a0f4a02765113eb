"""The supplier's item catalog: what it sells, no personal data.."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from infomediary.database import Base, utcnow


class CatalogItemRow(Base):
    """One item of one supplier's catalog; (supplier, item id) is the key, so suppliers' ids never collide."""

    __tablename__ = "catalog_items"

    supplier_id: Mapped[str] = mapped_column(ForeignKey("suppliers.id", ondelete="CASCADE"), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    # Space-separated catalog category keys (the supplier's own taxonomy, e.g. "books outdoor").
    categories: Mapped[str] = mapped_column(Text, default="")
    price: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
