"""Fixed-window request counters, keyed by an HMAC of the limited bucket and the client address."""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, Integer, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from infomediary.database import Base


class RateLimitCounter(Base):
    """Requests seen from one client address on one bucket in one window (the address is not stored)."""

    __tablename__ = "rate_limit_counters"
    __table_args__ = (Index("ix_rate_limit_counters_window_start", "window_start"),)

    key: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    # Seconds since the epoch at which the window began (a multiple of the window length).
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
