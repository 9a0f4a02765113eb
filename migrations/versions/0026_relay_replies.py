"""The mail relay's replies: which way a kept message went (to her, or her reply to the supplier)

Revision ID: 0026_relay_replies
Revises: 0025_relay_aliases
Create Date: 2026-12-09 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026_relay_replies"
down_revision: str | None = "0025_relay_aliases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("relayed_messages", schema=None) as batch_op:
        # Every message kept so far came in to her.
        batch_op.add_column(
            sa.Column("direction", sa.String(length=8), server_default="received", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("relayed_messages", schema=None) as batch_op:
        batch_op.drop_column("direction")
