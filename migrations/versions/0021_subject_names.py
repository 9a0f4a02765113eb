"""Subject names: nothing in the database ties an erased customer's rows to the names she is known by

The login address's blind index leaves `customers` (it moves, with the customer id she is shown, to the
erasure-key store, by `customers.directory.adopt_legacy` at start-up: a migration reaches only the
database); pseudonyms are no longer stored (they are encryptions of her customer id now, so the pseudonyms a
supplier was handed before this revision no longer resolve); a request keeps the pseudonym it named only
under the customer's erasure key.

Revision ID: 0021_subject_names
Revises: 0017_offer_privacy
Create Date: 2026-12-07 21:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_subject_names"
down_revision: str | None = "0017_offer_privacy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STABLE = sa.text("release_id IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.alter_column("email_index", existing_type=sa.LargeBinary(length=32), nullable=True)

    # Only the record that a stable pseudonym was handed over stays: supplier and customer, once.
    op.execute("DELETE FROM supplier_pseudonyms WHERE release_id IS NOT NULL")
    op.drop_index("uq_supplier_pseudonyms_stable", table_name="supplier_pseudonyms")
    with op.batch_alter_table("supplier_pseudonyms", schema=None) as batch_op:
        batch_op.drop_constraint("pk_supplier_pseudonyms", type_="primary")
        batch_op.drop_column("pseudonym")
        batch_op.drop_column("release_id")
        batch_op.create_primary_key("pk_supplier_pseudonyms", ["supplier_id", "customer_id"])

    # A request's pseudonym was a plain copy beside the customer's id: requests made before cannot be
    # sealed here (the migration has no keys), so their echo falls back to her stable pseudonym.
    with op.batch_alter_table("supplier_requests", schema=None) as batch_op:
        batch_op.drop_column("pseudonym")
        batch_op.add_column(sa.Column("pseudonym_sealed", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("pseudonym_tag", sa.LargeBinary(length=32), nullable=True))
        batch_op.create_index(
            "ix_supplier_requests_supplier_tag", ["supplier_id", "pseudonym_tag"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("supplier_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_supplier_requests_supplier_tag")
        batch_op.drop_column("pseudonym_tag")
        batch_op.drop_column("pseudonym_sealed")
        batch_op.add_column(sa.Column("pseudonym", sa.String(length=64), nullable=True))
    # The old rows need the pseudonym itself, which is not stored: the records of handing over go, and the
    # suppliers' requests by the new pseudonyms no longer resolve under the old code either way.
    op.execute("DELETE FROM supplier_pseudonyms")
    with op.batch_alter_table("supplier_pseudonyms", schema=None) as batch_op:
        batch_op.drop_constraint("pk_supplier_pseudonyms", type_="primary")
        batch_op.add_column(sa.Column("pseudonym", sa.String(length=64), nullable=False))
        batch_op.add_column(sa.Column("release_id", sa.String(length=40), nullable=True))
        batch_op.create_primary_key("pk_supplier_pseudonyms", ["supplier_id", "pseudonym"])
    op.create_index(
        "uq_supplier_pseudonyms_stable",
        "supplier_pseudonyms",
        ["supplier_id", "customer_id"],
        unique=True,
        sqlite_where=_STABLE,
        postgresql_where=_STABLE,
    )
    # A blind index cannot be brought back from the key store by a migration: downgrading needs
    # `email_index` filled again by hand, which is why the column stays nullable here.
