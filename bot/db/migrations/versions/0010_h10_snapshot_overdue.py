"""period_snapshot.overdue: the required items left undone, counted at month close

The dashboard lists branches with overdue items; counting them meant reading every
snapshot's breakdown JSON (most of a city dashboard's cost). Snapshots written before
this column stay NULL and are counted from their breakdown as before.

Revision ID: 0010_h10_snapshot_overdue
Revises: 0009_h11_eval_stage_index
Create Date: 2026-11-30 09:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_h10_snapshot_overdue"
down_revision = "0009_h11_eval_stage_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("period_snapshot") as batch:
        batch.add_column(sa.Column("overdue", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("period_snapshot") as batch:
        batch.drop_column("overdue")
