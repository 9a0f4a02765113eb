"""Recommendations: supplier catalogs, business rules, trained recommenders, customers' exclusions

Revision ID: 0011_recommendations
Revises: 0008_offers
Create Date: 2026-11-23 18:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import infomediary.database

revision: str = "0011_recommendations"
down_revision: str | None = "0015_hardening"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = infomediary.database.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "catalog_items",
        sa.Column("supplier_id", sa.String(length=40), nullable=False),
        sa.Column("item_id", sa.String(length=128), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("categories", sa.Text(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["suppliers.id"],
            name=op.f("fk_catalog_items_supplier_id_suppliers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("supplier_id", "item_id", name=op.f("pk_catalog_items")),
    )
    op.create_table(
        "business_rules",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("supplier_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["suppliers.id"],
            name=op.f("fk_business_rules_supplier_id_suppliers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_rules")),
    )
    with op.batch_alter_table("business_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_business_rules_supplier_id"), ["supplier_id"], unique=False)
    op.create_table(
        "recommender_models",
        sa.Column("supplier_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("meta", sa.Text(), nullable=False),
        sa.Column("trained_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["suppliers.id"],
            name=op.f("fk_recommender_models_supplier_id_suppliers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("supplier_id", "kind", name=op.f("pk_recommender_models")),
    )
    op.create_table(
        "recommendation_exclusions",
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("supplier_id", sa.String(length=40), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_recommendation_exclusions_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["suppliers.id"],
            name=op.f("fk_recommendation_exclusions_supplier_id_suppliers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", "supplier_id", name=op.f("pk_recommendation_exclusions")),
    )


def downgrade() -> None:
    op.drop_table("recommendation_exclusions")
    op.drop_table("recommender_models")
    with op.batch_alter_table("business_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_business_rules_supplier_id"))
    op.drop_table("business_rules")
    op.drop_table("catalog_items")
