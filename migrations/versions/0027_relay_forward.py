"""The relay's forward: her choice for remote images, and reports of relayed messages with offer reports

Revision ID: 0027_relay_forward
Revises: 0026_relay_replies
Create Date: 2026-12-08 02:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import infomediary.database

revision: str = "0027_relay_forward"
down_revision: str | None = "0026_relay_replies"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "relay_settings",
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("remote_images", sa.String(length=8), nullable=False),
        sa.Column("updated_at", infomediary.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_relay_settings_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_relay_settings")),
    )
    # A report is of an offer or of a relayed message: offer_id becomes optional.
    with op.batch_alter_table("offer_reports", schema=None) as batch_op:
        batch_op.alter_column("offer_id", existing_type=sa.String(length=40), nullable=True)
        batch_op.add_column(sa.Column("relayed_message_id", sa.String(length=40), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_offer_reports_relayed_message_id_relayed_messages"),
            "relayed_messages",
            ["relayed_message_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_offer_reports_relayed_message_id"), ["relayed_message_id"]
        )


def downgrade() -> None:
    op.execute("DELETE FROM offer_reports WHERE offer_id IS NULL")
    with op.batch_alter_table("offer_reports", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_offer_reports_relayed_message_id"), type_="unique")
        batch_op.drop_constraint(
            batch_op.f("fk_offer_reports_relayed_message_id_relayed_messages"), type_="foreignkey"
        )
        batch_op.drop_column("relayed_message_id")
        batch_op.alter_column("offer_id", existing_type=sa.String(length=40), nullable=False)
    op.drop_table("relay_settings")
