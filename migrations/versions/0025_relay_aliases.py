"""The mail relay: customers' relay addresses per supplier, suppliers' sending domains, relayed messages (sealed)

Revision ID: 0025_relay_aliases
Revises: 0024_vouchers
Create Date: 2026-12-08 01:11:37.436498
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import infomediary.database

revision: str = "0025_relay_aliases"
down_revision: str | None = "0024_vouchers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "relay_aliases",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("supplier_id", sa.String(length=40), nullable=False),
        sa.Column("marker_tag", sa.LargeBinary(length=32), nullable=False),
        sa.Column("marker_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", infomediary.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("switched_off_at", infomediary.database.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_relay_aliases_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["suppliers.id"],
            name=op.f("fk_relay_aliases_supplier_id_suppliers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relay_aliases")),
        sa.UniqueConstraint("customer_id", "supplier_id", name="uq_relay_aliases_customer_supplier"),
    )
    with op.batch_alter_table("relay_aliases", schema=None) as batch_op:
        batch_op.create_index("ix_relay_aliases_customer_marker", ["customer_id", "marker_tag"], unique=False)
        batch_op.create_index(batch_op.f("ix_relay_aliases_supplier_id"), ["supplier_id"], unique=False)

    op.create_table(
        "supplier_sending_domains",
        sa.Column("supplier_id", sa.String(length=40), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("selector", sa.String(length=63), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("updated_at", infomediary.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["suppliers.id"],
            name=op.f("fk_supplier_sending_domains_supplier_id_suppliers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("supplier_id", name=op.f("pk_supplier_sending_domains")),
    )
    op.create_table(
        "relayed_messages",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("supplier_id", sa.String(length=40), nullable=False),
        sa.Column("alias_id", sa.String(length=40), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("received_at", infomediary.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("summary_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("message_sealed", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alias_id"],
            ["relay_aliases.id"],
            name=op.f("fk_relayed_messages_alias_id_relay_aliases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_relayed_messages_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["suppliers.id"],
            name=op.f("fk_relayed_messages_supplier_id_suppliers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relayed_messages")),
    )
    with op.batch_alter_table("relayed_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_relayed_messages_alias_id"), ["alias_id"], unique=False)
        batch_op.create_index(
            "ix_relayed_messages_customer_received", ["customer_id", "received_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_relayed_messages_supplier_id"), ["supplier_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("relayed_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_relayed_messages_supplier_id"))
        batch_op.drop_index("ix_relayed_messages_customer_received")
        batch_op.drop_index(batch_op.f("ix_relayed_messages_alias_id"))

    op.drop_table("relayed_messages")
    op.drop_table("supplier_sending_domains")
    with op.batch_alter_table("relay_aliases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_relay_aliases_supplier_id"))
        batch_op.drop_index("ix_relay_aliases_customer_marker")

    op.drop_table("relay_aliases")
