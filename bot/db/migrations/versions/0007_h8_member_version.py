"""versions: a member's record carries the version a role or record edit was shown

Staff A opens a member's card and presses "Make secretary" after staff B changed the
member meanwhile: the stale press is refused instead of undoing B's change (issue 8,
item 13, role edits).

Revision ID: 0007_h8_member_version
Revises: 0006_i8a_versions
Create Date: 2026-11-30 08:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_h8_member_version"
down_revision = "0006_i8a_versions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_column("version")
