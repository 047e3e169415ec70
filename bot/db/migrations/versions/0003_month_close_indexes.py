"""month close indexes: covering indexes for the facts aggregates

Month close reads a city's meetings and evidence with two GROUP BY queries. Indexes
that hold every column those queries read let the database answer from the index
alone, in (branch, date) order, instead of visiting ~300,000 table rows at random.
They start with the columns of the two indexes they replace, so every query those
served is still served.

Revision ID: 5e0c1f7a9b32
Revises: 13ba5526c179
Create Date: 2026-11-27 17:40:00
"""

from alembic import op


revision = "5e0c1f7a9b32"
down_revision = "13ba5526c179"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.create_index(
            "ix_meeting_facts",
            ["org_id", "held_on", "kind", "counts", "attended", "expected"],
            unique=False,
        )
        batch_op.drop_index("ix_meeting_org_held")
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.create_index(
            "ix_evidence_facts",
            ["org_id", "month", "kind", "key", "grade", "count"],
            unique=False,
        )
        batch_op.drop_index("ix_evidence_org_month")


def downgrade() -> None:
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.create_index("ix_evidence_org_month", ["org_id", "month"], unique=False)
        batch_op.drop_index("ix_evidence_facts")
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.create_index("ix_meeting_org_held", ["org_id", "held_on"], unique=False)
        batch_op.drop_index("ix_meeting_facts")
