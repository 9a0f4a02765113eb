"""Set-based differencing: index rows numbered, answers keep the set of customers they counted

The differencing check now compares the customers two queries match (`audiences.differencing`): each index
row gets a stable `member_no` (an identity on PostgreSQL, an AUTOINCREMENT sequence drawn by a trigger on SQLite) and each
stored answer the roaring bitmap of the members it counted. The per-answer count of syntactic differencing
pairs it replaces is dropped.

Revision ID: 0019_set_differencing
Revises: 0018_budget_no_strike
Create Date: 2026-12-07 18:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_set_differencing"
down_revision: str | None = "0018_budget_no_strike"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The same numbering as `infomediary.audiences.models` (spelled here: a migration keeps the schema of its
# day). SQLite draws from an AUTOINCREMENT table, never reused, rather than copying the rowid, which
# deleting the highest row would free for a newcomer.
_SQLITE_TRIGGER = (
    "CREATE TRIGGER IF NOT EXISTS audience_index_member_no AFTER INSERT ON audience_index"
    " FOR EACH ROW WHEN NEW.member_no IS NULL BEGIN"
    " INSERT INTO audience_member_numbers (number) VALUES (NULL);"
    " UPDATE audience_index SET member_no = last_insert_rowid() WHERE rowid = NEW.rowid;"
    " DELETE FROM audience_member_numbers WHERE number < last_insert_rowid(); END"
)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    # Used by SQLite's trigger only; created everywhere so that every database has the models' tables.
    op.create_table(
        "audience_member_numbers",
        sa.Column("number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_audience_member_numbers")),
        sqlite_autoincrement=True,
        comment="SQLite only: the sequence of audience_index.member_no (PostgreSQL uses an identity).",
    )
    if sqlite:
        op.add_column("audience_index", sa.Column("member_no", sa.BigInteger(), nullable=True))
        # Existing rows are numbered by their rowids, and the sequence starts after the highest.
        op.execute("UPDATE audience_index SET member_no = rowid")
        op.execute(
            "INSERT INTO audience_member_numbers (number)"
            " SELECT max(member_no) FROM audience_index WHERE member_no IS NOT NULL"
        )
        op.execute(_SQLITE_TRIGGER)
    else:
        # An identity column numbers the existing rows as it is added.
        op.add_column(
            "audience_index", sa.Column("member_no", sa.BigInteger(), sa.Identity(), nullable=False)
        )
    op.create_index("uq_audience_index_member_no", "audience_index", ["member_no"], unique=True)
    with op.batch_alter_table("audience_answers", schema=None) as batch_op:
        batch_op.drop_column("differencing_pairs")
        batch_op.add_column(sa.Column("members", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audience_answers", schema=None) as batch_op:
        batch_op.drop_column("members")
        batch_op.add_column(sa.Column("differencing_pairs", sa.Integer(), nullable=False, server_default="0"))
    op.drop_index("uq_audience_index_member_no", table_name="audience_index")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audience_index_member_no")
    with op.batch_alter_table("audience_index", schema=None) as batch_op:
        batch_op.drop_column("member_no")
    op.drop_table("audience_member_numbers")
