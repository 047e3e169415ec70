"""eval_campaign by stage: the scheduler reads the campaigns still running every hour

Revision ID: 0009_h11_eval_stage_index
Revises: 0008_h9ui_mentoring_checkins
Create Date: 2026-11-30 09:00:00
"""

from alembic import op

revision = "0009_h11_eval_stage_index"
down_revision = "0008_h9ui_mentoring_checkins"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_eval_campaign_stage", "eval_campaign", ["stage"])


def downgrade() -> None:
    op.drop_index("ix_eval_campaign_stage", table_name="eval_campaign")
