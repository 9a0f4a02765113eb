"""Accounts: confirmed login addresses, single-use links mailed to customers, TOTP and recovery codes

Accounts that existed before this revision could sign in without a confirmed address: they count as
confirmed from their creation, so nobody is locked out by the upgrade.

Revision ID: 0022_accounts
Revises: 0021_subject_names
Create Date: 2026-12-07 21:40:51.209074
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import infomediary.database

revision: str = "0022_accounts"
down_revision: str | None = "0021_subject_names"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account_tokens",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("purpose", sa.String(length=24), nullable=False),
        sa.Column("created_at", infomediary.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", infomediary.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_account_tokens_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_account_tokens_token_hash")),
    )
    with op.batch_alter_table("account_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_account_tokens_customer_purpose", ["customer_id", "purpose"], unique=False)
        batch_op.create_index("ix_account_tokens_expires_at", ["expires_at"], unique=False)

    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("code_tag", sa.LargeBinary(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_recovery_codes_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
    )
    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recovery_codes_customer_id"), ["customer_id"], unique=False)

    op.create_table(
        "second_factors",
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("secret_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", infomediary.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", infomediary.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_step", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_second_factors_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_second_factors")),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("email_verified_at", infomediary.database.UTCDateTime(timezone=True), nullable=True)
        )
    op.execute("UPDATE customers SET email_verified_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("email_verified_at")

    op.drop_table("second_factors")
    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recovery_codes_customer_id"))
    op.drop_table("recovery_codes")
    with op.batch_alter_table("account_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_account_tokens_expires_at")
        batch_op.drop_index("ix_account_tokens_customer_purpose")
    op.drop_table("account_tokens")
