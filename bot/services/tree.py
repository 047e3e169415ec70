"""Looking after the organisation tree: see it with its counts, rename, move, remove.

The administrator's tools (`branchbot org list/rename/move/remove`, `org staff
--remove`). Every change is audited; nothing here commits.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, delete, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Member, MemberStatus, Organisation, OrgKind, Staff, load_all
from bot.services import audit, org_rules, orgs
from bot.services.audit import Actor
from bot.services.errors import ServiceError


@dataclass(frozen=True)
class TreeNode:
    id: int
    depth: int  # 0 for the listed root(s)
    name: str
    kind: str
    domain: str | None
    branches: int  # branches in its subtree, itself included
    members: int  # members (not left) in its subtree


async def require_path(session: AsyncSession, path: str) -> Organisation:
    """The organisation at a name path; refused with the nearest existing path when a
    name on the way is misspelt (one query for the names: `org_rules.locate`, which the
    command line's lean `org add` uses too)."""
    org_rules.split_path(path)  # an empty path is refused before any query
    rows = (
        await session.execute(select(Organisation.id, Organisation.parent_id, Organisation.name))
    ).all()
    found = org_rules.locate(rows, path).id
    # A query, not `session.get`: it also loads what a move or a commit expired.
    return (
        await session.execute(select(Organisation).where(Organisation.id == found))
    ).scalar_one()


async def add_staff(
    session: AsyncSession,
    actor: Actor,
    now: datetime,
    org: Organisation,
    telegram_id: int,
    name: str,
) -> None:
    """Make someone staff of a committee; nothing changes if they already are."""
    found = await session.execute(
        select(Staff.id).where(Staff.org_id == org.id, Staff.telegram_id == telegram_id)
    )
    if found.first() is not None:
        return
    staff = Staff(
        org_id=org.id, telegram_id=telegram_id, name=orgs.clean_name(name), created_at=now
    )
    session.add(staff)
    await session.flush()
    await audit.record(
        session,
        actor,
        now,
        "staff",
        staff.id,
        "create",
        {"org_id": [None, org.id], "telegram_id": [None, telegram_id]},
    )


async def tree_with_counts(
    session: AsyncSession, root: Organisation | None = None, depth: int | None = None
) -> list[TreeNode]:
    """The tree under `root` (everything without one) in display order, each node with
    the branches and members of its subtree: two queries, whatever the tree's size."""
    stmt = select(
        Organisation.id,
        Organisation.parent_id,
        Organisation.path,
        Organisation.name,
        Organisation.kind,
        Organisation.domain,
    )
    counts = select(Member.org_id, func.count(Member.id)).where(
        Member.status != MemberStatus.left.value
    )
    if root is not None:
        stmt = stmt.where(Organisation.path.startswith(root.path))
        counts = counts.join(Organisation, Organisation.id == Member.org_id).where(
            Organisation.path.startswith(root.path)
        )
    rows = (await session.execute(stmt)).all()
    own = dict((await session.execute(counts.group_by(Member.org_id))).all())
    branches: Counter[int] = Counter()
    members: Counter[int] = Counter()
    for o in rows:
        for ancestor in orgs.ancestor_ids(o):  # type: ignore[arg-type]
            members[ancestor] += own.get(o.id, 0)
            branches[ancestor] += o.kind == OrgKind.branch.value
    children: dict[int | None, list[Any]] = {}
    ids = {o.id for o in rows}
    for o in rows:
        parent = o.parent_id if o.parent_id in ids else None
        children.setdefault(parent, []).append(o)
    for kids in children.values():
        kids.sort(key=lambda o: (o.kind != OrgKind.committee.value, o.name))
    out: list[TreeNode] = []

    def walk(parent: int | None, level: int) -> None:
        for o in children.get(parent, []):
            out.append(
                TreeNode(o.id, level, o.name, o.kind, o.domain, branches[o.id], members[o.id])
            )
            if depth is None or level < depth:
                walk(o.id, level + 1)

    walk(None, 0)
    return out


async def rename_org(
    session: AsyncSession, actor: Actor, now: datetime, org: Organisation, new_name: str
) -> Organisation:
    name = orgs.clean_name(new_name)
    if name == org.name:
        return org
    await _name_free(session, org.parent_id, name)
    old = org.name
    org.name = name
    await session.flush()
    await audit.record(session, actor, now, "organisation", org.id, "update", {"name": [old, name]})
    return org


async def move_org(
    session: AsyncSession, actor: Actor, now: datetime, org: Organisation, parent: Organisation
) -> Organisation:
    """Put `org` (and its whole subtree) under `parent`: one UPDATE rewrites the paths."""
    if parent.kind != OrgKind.committee.value:
        raise ServiceError("org.parent_is_branch", parent=parent.name)
    if orgs.is_within(parent, org):
        raise ServiceError("org.move_into_itself", name=org.name)
    if parent.id == org.parent_id:
        return org
    await _name_free(session, parent.id, org.name)
    old_parent, old_path = org.parent_id, org.path
    new_path = f"{parent.path}{org.id}{orgs.PATH_SEP}"
    await session.execute(
        update(Organisation)
        .where(Organisation.path.startswith(old_path))
        .values(path=literal(new_path, String) + func.substr(Organisation.path, len(old_path) + 1))
        .execution_options(synchronize_session="fetch")
    )
    await session.execute(
        update(Organisation).where(Organisation.id == org.id).values(parent_id=parent.id)
    )
    await session.refresh(org)
    await audit.record(
        session,
        actor,
        now,
        "organisation",
        org.id,
        "update",
        {"parent_id": [old_parent, parent.id], "path": [old_path, new_path]},
    )
    return org


async def remove_org(session: AsyncSession, actor: Actor, now: datetime, org: Organisation) -> int:
    """Remove an organisation and the empty organisations under it; refused, with what
    is in the way, while anything in the subtree has members or history."""
    subtree = select(Organisation.id).where(Organisation.path.startswith(org.path))
    ids = list((await session.execute(subtree)).scalars())
    in_use = await _references(session, subtree)
    if in_use:
        raise ServiceError(
            "org.remove_in_use",
            name=org.name,
            what=", ".join(f"{table}: {n}" for table, n in in_use.items()),
            counts=in_use,  # said in words by texts.history_words
        )
    rows = await session.execute(
        select(Organisation.id, Organisation.path, Organisation.name).where(
            Organisation.id.in_(ids)
        )
    )
    found = sorted(rows.all(), key=lambda o: -len(o.path))
    for o in found:  # deepest first: a parent is deleted after its children
        await session.execute(delete(Organisation).where(Organisation.id == o.id))
    await audit.record_many(
        session,
        actor,
        now,
        [("organisation", o.id, "delete", {"name": [o.name, None]}) for o in found],
    )
    return len(found)


async def _references(session: AsyncSession, ids: Any) -> dict[str, int]:
    """Rows of every other table that point into `ids` (a subquery), by table (one query each).

    Read from the schema's foreign keys, so a table added later counts without a change
    here: members, staff, meetings, evidence, snapshots — an organisation's history."""
    org_table = Organisation.__table__
    found: dict[str, int] = {}
    for table in load_all().sorted_tables:
        if table is org_table:
            continue
        for fk in table.foreign_keys:
            if fk.column.table is not org_table:
                continue
            count = await session.scalar(
                select(func.count()).select_from(table).where(fk.parent.in_(ids))
            )
            if count:
                found[table.name] = found.get(table.name, 0) + count
    return found


async def remove_staff(
    session: AsyncSession, actor: Actor, now: datetime, org: Organisation, telegram_id: int
) -> None:
    staff = (
        await session.execute(
            select(Staff).where(Staff.org_id == org.id, Staff.telegram_id == telegram_id)
        )
    ).scalar_one_or_none()
    if staff is None:
        raise ServiceError("org.staff_unknown", telegram_id=telegram_id)
    await session.delete(staff)
    await session.flush()
    await audit.record(
        session,
        actor,
        now,
        "staff",
        staff.id,
        "delete",
        {"org_id": [org.id, None], "telegram_id": [telegram_id, None]},
    )


async def _name_free(session: AsyncSession, parent_id: int | None, name: str) -> None:
    cond = (
        Organisation.parent_id.is_(None)
        if parent_id is None
        else Organisation.parent_id == parent_id
    )
    clash = await session.execute(select(Organisation.id).where(cond, Organisation.name == name))
    if clash.first() is not None:
        raise org_rules.name_taken(name)
