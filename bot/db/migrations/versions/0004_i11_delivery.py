"""scheduler and delivery: outbox, unreachable users, scheduler lock, job runs, muted
reminders, broadcasts

Revision ID: i11_delivery
Revises: 5e0c1f7a9b32
Create Date: 2026-11-30 06:00:00
"""

import sqlalchemy as sa
from alembic import op

from bot.db.types import UTCDateTime

revision = "i11_delivery"
down_revision = "5e0c1f7a9b32"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=160), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("markup", sa.JSON(), nullable=True),
        sa.Column("file_id", sa.String(length=255), nullable=True),
        sa.Column("file_kind", sa.String(length=12), nullable=True),
        sa.Column("broadcast_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    op.create_index("ix_outbox_ready", "outbox", ["status", "not_before", "id"])
    op.create_index("ix_outbox_broadcast", "outbox", ["broadcast_id", "status"])
    op.create_table(
        "unreachable",
        sa.Column("telegram_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("since", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("telegram_id"),
    )
    op.create_table(
        "scheduler_lock",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "job_run",
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("last_run_at", UTCDateTime(), nullable=True),
        sa.Column("next_run_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("job_id"),
    )
    op.create_table(
        "notification_pref",
        sa.Column("telegram_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("telegram_id", "topic"),
    )
    op.create_table(
        "broadcast",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("roles", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("file_id", sa.String(length=255), nullable=True),
        sa.Column("file_kind", sa.String(length=12), nullable=True),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organisation.id"]),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("broadcast")
    op.drop_table("notification_pref")
    op.drop_table("job_run")
    op.drop_table("scheduler_lock")
    op.drop_table("unreachable")
    op.drop_index("ix_outbox_broadcast", table_name="outbox")
    op.drop_index("ix_outbox_ready", table_name="outbox")
    op.drop_table("outbox")
