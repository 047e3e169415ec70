"""Creating an organisation without SQLAlchemy: the command line's `org add`.

The same unit, refusals and audit row as `orgs.create_org` (chat `/orgs`, imports):
both take their rules from `org_rules` and their audit row from `audit.row`; only the
statements differ, written here in plain SQL over `bot.db.plain` so that the command
starts without the ORM (see there for why). Nothing here commits.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from bot.db.enums import Domain, OrgKind
from bot.db.plain import PlainDb
from bot.services import audit, org_rules
from bot.services.audit import Actor


class OrgRow(NamedTuple):
    id: int
    parent_id: int | None
    name: str
    kind: str
    path: str


async def tree_rows(db: PlainDb) -> list[OrgRow]:
    """The whole tree's rows (a city has ~1,300), for finding paths and naming them."""
    rows = await db.fetch("SELECT id, parent_id, name, kind, path FROM organisation")
    return [OrgRow(*r) for r in rows]


async def create_org(
    db: PlainDb,
    actor: Actor,
    now: datetime,
    *,
    name: str,
    kind: OrgKind | str,
    parent: OrgRow | None,
    domain: Domain | str | None = None,
) -> OrgRow:
    """`orgs.create_org` for a superior already found (`org_rules.locate`)."""
    name, kind, domain = org_rules.new_org(name, kind, domain)
    org_rules.check_place(kind, parent.kind if parent else None, parent.name if parent else None)
    parent_id = parent.id if parent else None
    if parent_id is None:
        clash = await db.fetch(
            "SELECT id FROM organisation WHERE parent_id IS NULL AND name = ?", name
        )
    else:
        clash = await db.fetch(
            "SELECT id FROM organisation WHERE parent_id = ? AND name = ?", parent_id, name
        )
    if clash:
        raise org_rules.name_taken(name)
    org_id = await db.insert_returning_id(
        "INSERT INTO organisation (parent_id, path, kind, name, domain, timezone, locale,"
        " group_chat_id, created_at) VALUES (?, '', ?, ?, ?, NULL, NULL, NULL, ?)",
        parent_id,
        kind.value,
        name,
        domain.value if domain else None,
        db.time(now),
    )
    path = org_rules.child_path(parent.path if parent else None, org_id)
    await db.fetch("UPDATE organisation SET path = ? WHERE id = ?", path, org_id)
    row = audit.row(
        actor,
        now,
        "organisation",
        org_id,
        "create",
        org_rules.created_changes(name, kind, parent_id, domain),
    )
    await db.fetch(
        "INSERT INTO audit_log (at, actor_id, actor, entity, entity_id, action, changes)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        db.time(row["at"]),
        row["actor_id"],
        row["actor"],
        row["entity"],
        row["entity_id"],
        row["action"],
        db.json(row["changes"]),
    )
    return OrgRow(org_id, parent_id, name, kind.value, path)
