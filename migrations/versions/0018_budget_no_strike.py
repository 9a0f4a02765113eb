"""Budget: reaching the epsilon limit is no longer struck, so the ledger's once-per-period strike flag goes

Revision ID: 0018_budget_no_strike
Revises: 0011_recommendations
Create Date: 2026-12-01 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_budget_no_strike"
down_revision: str | None = "0011_recommendations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("epsilon_ledger", schema=None) as batch_op:
        batch_op.drop_column("exhausted_strike")


def downgrade() -> None:
    # Restored unset: the strikes already recorded stay in supplier_sanctions whatever the flag says.
    with op.batch_alter_table("epsilon_ledger", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("exhausted_strike", sa.Boolean(), nullable=False, server_default=sa.false())
        )
