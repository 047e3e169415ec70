"""facts_token: a token per organisation that every write to its month facts replaces

`/month` keeps each branch's computed checklist in memory (bot/services/checklist.py)
and uses it only while the tokens it was computed under are still the ones in the
database. Triggers replace the token in the same statement as the write, whatever
writes (a service, month close, an import, another worker process, plain SQL), so no
code path can forget to invalidate:

- meeting (the columns the facts read), evidence, branch_featured: the branch's token;
- period_snapshot (a month closed or reopened): the branch's token;
- education_content: the token of the committee that offers it (a branch's checklist
  is checked against its own token and its ancestors').

A new token is drawn, never incremented: a checklist computed inside a transaction
that later rolls back is filed under a token nobody will see again (a counter would
come back to the same value with other facts), and random rather than from a
sequence, which starts again at 1 in a database rebuilt under a running process.
SQLite's random() has 64 bits, PostgreSQL's about 52.

SQLite keeps triggers with their table: a later migration that rebuilds one of these
tables (batch "recreate") drops them and must create them again
(tests/integration/test_month_cache.py checks they are all there at head).

Revision ID: 0012_h14month_facts_token
Revises: 0011_h9rest_result_member
Create Date: 2026-11-30 12:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_h14month_facts_token"
down_revision = "0011_h9rest_result_member"
branch_labels = None
depends_on = None

# table -> the columns whose update changes the facts (None: any update)
WATCHED = {
    "meeting": ("org_id", "kind", "held_on", "counts", "attended", "expected"),
    "evidence": ("org_id", "month", "kind", "key", "count", "grade"),
    "branch_featured": None,
    "period_snapshot": ("org_id", "period"),
    "education_content": None,
}


def _sqlite_bump(row: str) -> str:
    return (
        f"INSERT INTO facts_token (org_id, token) VALUES ({row}.org_id, random()) "
        "ON CONFLICT (org_id) DO UPDATE SET token = excluded.token;"
    )


def upgrade() -> None:
    op.create_table(
        "facts_token",
        sa.Column("org_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("token", sa.BigInteger(), nullable=False),
    )
    if op.get_bind().dialect.name == "sqlite":
        for table, columns in WATCHED.items():
            of = f" OF {', '.join(columns)}" if columns else ""
            op.execute(
                f"CREATE TRIGGER facts_token_{table}_ins AFTER INSERT ON {table} "
                f"BEGIN {_sqlite_bump('NEW')} END"
            )
            op.execute(
                f"CREATE TRIGGER facts_token_{table}_del AFTER DELETE ON {table} "
                f"BEGIN {_sqlite_bump('OLD')} END"
            )
            op.execute(
                f"CREATE TRIGGER facts_token_{table}_upd AFTER UPDATE{of} ON {table} "
                f"BEGIN {_sqlite_bump('OLD')} {_sqlite_bump('NEW')} END"
            )
        return
    op.execute(
        """
        CREATE FUNCTION facts_token_bump() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'INSERT' THEN
                INSERT INTO facts_token (org_id, token)
                VALUES (OLD.org_id, floor((random() - 0.5) * 1.8e19)::bigint)
                ON CONFLICT (org_id) DO UPDATE SET token = EXCLUDED.token;
            END IF;
            IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.org_id <> OLD.org_id) THEN
                INSERT INTO facts_token (org_id, token)
                VALUES (NEW.org_id, floor((random() - 0.5) * 1.8e19)::bigint)
                ON CONFLICT (org_id) DO UPDATE SET token = EXCLUDED.token;
            END IF;
            RETURN NULL;
        END
        $$
        """
    )
    for table, columns in WATCHED.items():
        of = f" OF {', '.join(columns)}" if columns else ""
        op.execute(
            f"CREATE TRIGGER facts_token_{table} AFTER INSERT OR DELETE OR UPDATE{of} "
            f"ON {table} FOR EACH ROW EXECUTE FUNCTION facts_token_bump()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in WATCHED:
            for suffix in ("ins", "del", "upd"):
                op.execute(f"DROP TRIGGER facts_token_{table}_{suffix}")
    else:
        for table in WATCHED:
            op.execute(f"DROP TRIGGER facts_token_{table} ON {table}")
        op.execute("DROP FUNCTION facts_token_bump()")
    op.drop_table("facts_token")
