"""Offer privacy: offer statistics no longer keep the true figures they were drawn from

Their redraw follows a fixed schedule (`offers.stats`), so nothing compares the true figures any more; not
storing them removes the temptation to decide on them.

Revision ID: 0017_offer_privacy
Revises: 0020_privacy_loss (the current head; the lead re-chains)
Create Date: 2026-11-24 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_offer_privacy"
down_revision: str | None = "0020_privacy_loss"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRUE_FIGURES = ("true_delivered", "true_viewed", "true_accepted")


def upgrade() -> None:
    with op.batch_alter_table("offer_stats", schema=None) as batch_op:
        for name in TRUE_FIGURES:
            batch_op.drop_column(name)


def downgrade() -> None:
    # The figures dropped are gone: a downgraded row claims 0, so the old code's first read redraws it.
    with op.batch_alter_table("offer_stats", schema=None) as batch_op:
        for name in TRUE_FIGURES:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
