"""versions: shared records carry the version a decision was shown

A staff member's confirmation of a star level, or a secretary's edit of a meeting,
names the version it was made on; a stale one is refused instead of silently undoing
someone else's change (issue 8, item 13).

Revision ID: 0006_i8a_versions
Revises: 0005_i9_evaluation
Create Date: 2026-11-30 06:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_i8a_versions"
down_revision = "0005_i9_evaluation"
branch_labels = None
depends_on = None

TABLES = ("period_snapshot", "meeting")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("version", sa.Integer(), nullable=False, server_default="0")
            )


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("version")
