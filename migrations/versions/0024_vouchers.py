"""Vouchers: credits a customer turned into a single-use code for one supplier, linked to her only by values
bound to her erasure key

Revision ID: 0024_vouchers
Revises: 0023_email_change
Create Date: 2026-12-09 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import infomediary.database

revision: str = "0024_vouchers"
down_revision: str | None = "0023_email_change"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "vouchers",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("supplier_id", sa.String(length=40), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", infomediary.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("code_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("holder_tag", sa.LargeBinary(length=32), nullable=True),
        sa.Column("issue_tag", sa.LargeBinary(length=32), nullable=True),
        sa.Column("code_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("redeemed_at", infomediary.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("redemption_key", sa.String(length=200), nullable=True),
        sa.Column("refunded_at", infomediary.database.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["supplier_id"], ["suppliers.id"], name=op.f("fk_vouchers_supplier_id_suppliers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vouchers")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_vouchers_code_hash")),
        sa.UniqueConstraint("issue_tag", name=op.f("uq_vouchers_issue_tag")),
    )
    with op.batch_alter_table("vouchers", schema=None) as batch_op:
        batch_op.create_index("ix_vouchers_holder_tag", ["holder_tag"], unique=False)
        batch_op.create_index(batch_op.f("ix_vouchers_supplier_id"), ["supplier_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("vouchers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vouchers_supplier_id"))
        batch_op.drop_index("ix_vouchers_holder_tag")
    op.drop_table("vouchers")
