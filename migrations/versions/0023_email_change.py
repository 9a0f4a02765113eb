"""Email change: a link token carries what its use acts on (the new login address, sealed)

Revision ID: 0023_email_change
Revises: 0022_accounts
Create Date: 2026-12-14 10:12:03.418220
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023_email_change"
down_revision: str | None = "0022_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("account_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payload", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    # Pending changes carry their address in the column: without it they could not complete, so they go.
    op.execute("DELETE FROM account_tokens WHERE payload IS NOT NULL")
    with op.batch_alter_table("account_tokens", schema=None) as batch_op:
        batch_op.drop_column("payload")
