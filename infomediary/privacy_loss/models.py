"""Tables of individual privacy accounting: the period's losses, the releases behind them, customers' caps."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from infomediary.database import Base, utcnow


class PrivacyLossTally(Base):
    """Every customer's loss in one budget period: a zlib-compressed array of milli-epsilon (uint32, little
    endian) indexed by audience-index member number. One row per period, locked by each DP release for the
    rest of its transaction, so two releases cannot both admit a customer to the last of her budget."""

    __tablename__ = "privacy_loss_tallies"

    period_start: Mapped[datetime] = mapped_column(primary_key=True)
    losses: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PrivacyReleaseRow(Base):
    """One DP release and the customers it included (a roaring bitmap of member numbers): what a customer's
    account is itemised from, supplier by supplier. Only numbers the index alone maps back to customers."""

    __tablename__ = "privacy_releases"
    __table_args__ = (Index("ix_privacy_releases_period", "period_start"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    supplier_id: Mapped[str] = mapped_column(ForeignKey("suppliers.id", ondelete="CASCADE"), index=True)
    period_start: Mapped[datetime]
    # What was released: `aggregate_count`, `offer_statistics`, `audience_items`.
    kind: Mapped[str] = mapped_column(String(40))
    epsilon_milli: Mapped[int] = mapped_column(Integer)
    members: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PrivacyLossCap(Base):
    """A customer's own cap on her privacy loss per period, in milli-epsilon; without a row, the operator's
    default (`Settings.privacy_loss_cap`) applies."""

    __tablename__ = "privacy_loss_caps"

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    cap_milli: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
