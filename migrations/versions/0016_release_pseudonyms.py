"""Release pseudonyms: a slice release's rows carry their own pseudonyms, so the stable pair need not be unique

Revision ID: 0016_release_pseudonyms
Revises: 0017_audience_items
Create Date: 2026-12-07 18:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_release_pseudonyms"
down_revision: str | None = "0017_audience_items"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STABLE = sa.text("release_id IS NULL")


def upgrade() -> None:
    # A request echoes the pseudonym it was made by, not the customer's stable one.
    with op.batch_alter_table("supplier_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pseudonym", sa.String(length=64), nullable=True))
    # Batch mode: SQLite cannot drop a constraint in place, so the table is copied there.
    with op.batch_alter_table("supplier_pseudonyms", schema=None) as batch_op:
        batch_op.add_column(sa.Column("release_id", sa.String(length=40), nullable=True))
        batch_op.drop_constraint("uq_supplier_pseudonyms_supplier_id", type_="unique")
    # Existing rows are all stable pseudonyms (release_id NULL): the partial index keeps them one per pair.
    op.create_index(
        "uq_supplier_pseudonyms_stable",
        "supplier_pseudonyms",
        ["supplier_id", "customer_id"],
        unique=True,
        sqlite_where=_STABLE,
        postgresql_where=_STABLE,
    )


def downgrade() -> None:
    # A release's rows cannot satisfy the old one-per-pair constraint: they go with the column.
    op.execute("DELETE FROM supplier_pseudonyms WHERE release_id IS NOT NULL")
    op.drop_index("uq_supplier_pseudonyms_stable", table_name="supplier_pseudonyms")
    with op.batch_alter_table("supplier_pseudonyms", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            "uq_supplier_pseudonyms_supplier_id", ["supplier_id", "customer_id"]
        )
        batch_op.drop_column("release_id")
    with op.batch_alter_table("supplier_requests", schema=None) as batch_op:
        batch_op.drop_column("pseudonym")
