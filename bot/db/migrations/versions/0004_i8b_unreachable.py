"""member.unreachable_at: Telegram refused a message to them (blocked bot, deleted account)

Set when a send to the member's private chat fails with 403; cleared by the next update
they send. Their secretary sees the mark in /roster.

Revision ID: 0004_i8b_unreachable
Revises: 5e0c1f7a9b32
Create Date: 2026-11-30 05:40:00
"""

import sqlalchemy as sa
from alembic import op

from bot.db.types import UTCDateTime

revision = "0004_i8b_unreachable"
down_revision = "5e0c1f7a9b32"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unreachable_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_column("unreachable_at")
