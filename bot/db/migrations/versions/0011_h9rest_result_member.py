"""eval_result by member: "my grade" and the priority mark read a member's results

Revision ID: 0011_h9rest_result_member
Revises: 0010_h10_snapshot_overdue
Create Date: 2026-11-30 10:10:00
"""

from alembic import op

revision = "0011_h9rest_result_member"
down_revision = "0010_h10_snapshot_overdue"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_eval_result_member", "eval_result", ["member_id"])


def downgrade() -> None:
    op.drop_index("ix_eval_result_member", table_name="eval_result")
