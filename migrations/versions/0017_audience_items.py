"""Audience top items: the released differentially private selections, kept for their budget period

A repeated audience top-items request in the same period and population epoch gets the stored selection
back without spending budget again. Only released item ids are stored.

Revision ID: 0017_audience_items
Revises: 0019_set_differencing
Create Date: 2026-11-24 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import infomediary.database

revision: str = "0017_audience_items"
down_revision: str | None = "0019_set_differencing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audience_item_answers",
        sa.Column("supplier_id", sa.String(length=40), nullable=False),
        sa.Column("period_start", infomediary.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("query_key", sa.String(length=64), nullable=False),
        sa.Column("predicate", sa.Text(), nullable=False),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("epsilon_milli", sa.Integer(), nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("created_at", infomediary.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["suppliers.id"],
            name=op.f("fk_audience_item_answers_supplier_id_suppliers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "supplier_id", "period_start", "query_key", name=op.f("pk_audience_item_answers")
        ),
    )


def downgrade() -> None:
    op.drop_table("audience_item_answers")
