"""Trained recommenders and the customer's edits of what drives their recommendations.

A model row holds only what describes items (item ids, item-to-item similarities, item factors, ranked
popular items of segments of at least `recommend_min_segment` customers): no user factors and no
interaction matrix are ever stored; a customer's vector is recomputed at request time from their own
consented history. The customer's exclusions name items they interacted with, so they are sealed under the
customer's own data key like any vault value.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from infomediary.database import Base, utcnow


class RecommenderModelRow(Base):
    __tablename__ = "recommender_models"

    supplier_id: Mapped[str] = mapped_column(ForeignKey("suppliers.id", ondelete="CASCADE"), primary_key=True)
    # "item_item", "als" or "popularity".
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    # JSON list of catalog item ids: row i of the payload is item i.
    items: Mapped[str] = mapped_column(Text)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    # JSON: parameters and sizes (customers and interactions trained on), never a customer id.
    meta: Mapped[str] = mapped_column(Text)
    trained_at: Mapped[datetime] = mapped_column(default=utcnow)


class RecommendationExclusionRow(Base):
    """Items one customer removed from what drives their recommendations at one supplier (sealed list)."""

    __tablename__ = "recommendation_exclusions"

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    supplier_id: Mapped[str] = mapped_column(ForeignKey("suppliers.id", ondelete="CASCADE"), primary_key=True)
    schema_version: Mapped[int] = mapped_column(Integer, default=1)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AudienceItemsAnswerRow(Base):
    """A released audience top-items answer, kept for its budget period: a repeat gets it back, unspent.

    Only the released item ids are stored (the DP selection), never a score or a customer.
    """

    __tablename__ = "audience_item_answers"

    supplier_id: Mapped[str] = mapped_column(ForeignKey("suppliers.id", ondelete="CASCADE"), primary_key=True)
    period_start: Mapped[datetime] = mapped_column(primary_key=True)
    # sha256 of the canonical predicate and the number of items asked for.
    query_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The canonical predicate (the supplier's own query, no personal data).
    predicate: Mapped[str] = mapped_column(Text)
    # JSON list of the released catalog item ids, in released order.
    items: Mapped[str] = mapped_column(Text)
    epsilon_milli: Mapped[int] = mapped_column(Integer)
    # The population epoch of the draw: after a customer left, the answer is drawn again without her.
    epoch: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
