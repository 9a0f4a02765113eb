"""Set-based differencing: answers no longer carry a count of syntactic differencing pairs

The differencing check now compares the customers two queries match (`audiences.differencing`), computed
in the count's own scan; the per-answer pair count it replaces is dropped.

Revision ID: 0019_set_differencing
Revises: 0011_recommendations
Create Date: 2026-12-07 18:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_set_differencing"
down_revision: str | None = "0011_recommendations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audience_answers", schema=None) as batch_op:
        batch_op.drop_column("differencing_pairs")


def downgrade() -> None:
    with op.batch_alter_table("audience_answers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("differencing_pairs", sa.Integer(), nullable=False, server_default="0"))
