"""eval_checkin: each month of paired mentoring, confirmed by the mentored member or the
mentor (issue 9, "both get monthly check-in prompts")

Revision ID: 0008_h9ui_mentoring_checkins
Revises: 0007_h8_member_version
Create Date: 2026-11-30 09:05:00
"""

import sqlalchemy as sa
from alembic import op

import bot.db.types

revision = "0008_h9ui_mentoring_checkins"
down_revision = "0007_h8_member_version"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "eval_checkin",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("by_mentor", sa.Boolean(), nullable=False),
        sa.Column("at", bot.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["eval_campaign.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("campaign_id", "member_id", "month", "by_mentor"),
    )


def downgrade() -> None:
    op.drop_table("eval_checkin")
