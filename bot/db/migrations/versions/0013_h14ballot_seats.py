"""eval_seat: the electorate in ballot order, fixed when the vote opens

A ballot lists the electorate in name order, a page at a time, and every mark pressed
draws its page again: reading a page by seat is an index range of a few rows, where
ordering the whole electorate by name on each press read and sorted all of it (and
counted it). The electorate is fixed when the vote opens, and so are the seats. A table
of its own: eval_tally, the counts, is laid out for ballot secrecy and stays as it is.
A campaign already voting when this runs gets its seats in the same order.

Revision ID: 0013_h14ballot_seats
Revises: 0012_h14month_facts_token
Create Date: 2026-11-30 18:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_h14ballot_seats"
down_revision = "0012_h14month_facts_token"
branch_labels = None
depends_on = None

# A candidate's seat: how many of the campaign's candidates come before them by name
# (then id), as services.evaluation.eligible_members orders them.
_BACKFILL = """
INSERT INTO eval_seat (campaign_id, seat, member_id)
SELECT t.campaign_id, (
    SELECT count(*) FROM eval_tally AS other
    JOIN member AS m ON m.id = other.candidate_id
    WHERE other.campaign_id = t.campaign_id AND other.band = 0
      AND (m.name < me.name OR (m.name = me.name AND m.id < me.id))
), t.candidate_id
FROM eval_tally AS t JOIN member AS me ON me.id = t.candidate_id
WHERE t.band = 0
"""


def upgrade() -> None:
    op.create_table(
        "eval_seat",
        sa.Column(
            "campaign_id",
            sa.Integer(),
            sa.ForeignKey("eval_campaign.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("seat", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("member_id", sa.Integer(), sa.ForeignKey("member.id"), nullable=False),
        sa.UniqueConstraint("campaign_id", "member_id", name="uq_eval_seat_member"),
        sqlite_with_rowid=False,
    )
    op.execute(_BACKFILL)


def downgrade() -> None:
    op.drop_table("eval_seat")
