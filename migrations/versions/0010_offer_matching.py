"""Offer matching: noisy stable offer stats, customers' reports, withdrawal and refund of offers

Revision ID: 0010_offer_matching
Revises: 0008_offers
Create Date: 2026-11-23 17:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import infomediary.database

revision: str = "0010_offer_matching"
down_revision: str | None = "0008_offers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("withdrawn_at", infomediary.database.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("refunded_at", infomediary.database.UTCDateTime(timezone=True), nullable=True)
        )
        # Existing offers have earned no strike for reports yet.
        batch_op.add_column(
            sa.Column("report_strike", sa.Boolean(), nullable=False, server_default=sa.false())
        )

    op.create_table(
        "offer_stats",
        sa.Column("offer_id", sa.String(length=40), nullable=False),
        sa.Column("true_delivered", sa.Integer(), nullable=False),
        sa.Column("true_viewed", sa.Integer(), nullable=False),
        sa.Column("true_accepted", sa.Integer(), nullable=False),
        sa.Column("noisy_delivered", sa.Integer(), nullable=False),
        sa.Column("noisy_viewed", sa.Integer(), nullable=False),
        sa.Column("noisy_accepted", sa.Integer(), nullable=False),
        sa.Column("epsilon_milli", sa.Integer(), nullable=False),
        sa.Column("drawn_at", infomediary.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["offers.id"], name=op.f("fk_offer_stats_offer_id_offers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("offer_id", name=op.f("pk_offer_stats")),
    )

    op.create_table(
        "offer_reports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("offer_id", sa.String(length=40), nullable=False),
        sa.Column("supplier_id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", infomediary.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_offer_reports_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["offers.id"], name=op.f("fk_offer_reports_offer_id_offers"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["suppliers.id"],
            name=op.f("fk_offer_reports_supplier_id_suppliers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer_reports")),
        sa.UniqueConstraint("offer_id", "customer_id", name="uq_offer_reports_customer"),
    )
    with op.batch_alter_table("offer_reports", schema=None) as batch_op:
        batch_op.create_index(
            "ix_offer_reports_customer_created", ["customer_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_offer_reports_supplier_created", ["supplier_id", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("offer_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_offer_reports_supplier_created")
        batch_op.drop_index("ix_offer_reports_customer_created")
    op.drop_table("offer_reports")
    op.drop_table("offer_stats")
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_column("report_strike")
        batch_op.drop_column("refunded_at")
        batch_op.drop_column("withdrawn_at")
