"""Individual privacy accounting: each period's losses by index member, the releases behind them, caps

Revision ID: 0020_privacy_loss
Revises: 0016_release_pseudonyms
Create Date: 2026-12-07 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import infomediary.database

revision: str = "0020_privacy_loss"
down_revision: str | None = "0016_release_pseudonyms"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "privacy_loss_tallies",
        sa.Column("period_start", infomediary.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("losses", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", infomediary.database.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("period_start", name=op.f("pk_privacy_loss_tallies")),
    )
    op.create_table(
        "privacy_releases",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("supplier_id", sa.String(length=40), nullable=False),
        sa.Column("period_start", infomediary.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("epsilon_milli", sa.Integer(), nullable=False),
        sa.Column("members", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", infomediary.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["suppliers.id"],
            name=op.f("fk_privacy_releases_supplier_id_suppliers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_releases")),
    )
    op.create_index("ix_privacy_releases_period", "privacy_releases", ["period_start"])
    op.create_index(op.f("ix_privacy_releases_supplier_id"), "privacy_releases", ["supplier_id"])
    op.create_table(
        "privacy_loss_caps",
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("cap_milli", sa.Integer(), nullable=False),
        sa.Column("updated_at", infomediary.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_privacy_loss_caps_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_privacy_loss_caps")),
    )


def downgrade() -> None:
    op.drop_table("privacy_loss_caps")
    op.drop_index(op.f("ix_privacy_releases_supplier_id"), table_name="privacy_releases")
    op.drop_index("ix_privacy_releases_period", table_name="privacy_releases")
    op.drop_table("privacy_releases")
    op.drop_table("privacy_loss_tallies")
