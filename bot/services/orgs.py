"""The organisation tree: committees and branches, any depth."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Domain, Member, MemberStatus, Organisation, OrgKind
from bot.db.rows import Prepared, fetch, held, read_connection
from bot.services import audit, org_rules
from bot.services.audit import Actor
from bot.services.errors import ServiceError
from bot.services.paging import PAGE_SIZE, Page, paginate

# The rules themselves live without SQLAlchemy in `org_rules`, shared with the command
# line's lean `org add`; these names stay here for the many callers that use them.
MAX_NAME = org_rules.MAX_NAME
PATH_SEP = org_rules.PATH_SEP
clean_name = org_rules.clean_name
split_path = org_rules.split_path


async def require_org(session: AsyncSession, org_id: int) -> Organisation:
    org = held(session, Organisation, org_id) or await session.get(Organisation, org_id)
    if org is None:
        raise ServiceError("org.not_found")
    return org


def ancestor_ids(org: Organisation) -> list[int]:
    """Ids from the root down to (and including) `org`, read off its path."""
    return org_rules.ancestor_ids(org.path)


def is_within(org: Organisation, root: Organisation) -> bool:
    return org.path.startswith(root.path)


# Built once: `/me` and every card with a path run it. An expanding IN would make its
# SQL again on every call (SQLAlchemy compiles it per number of ids), so a few ids go
# into fixed slots, padded to a power of two by repeating one: a handful of statements,
# each compiled once, run on the driver (`bot.db.rows.Prepared`).
_ORG_ID, _ORG_NAME = Organisation.__table__.c.id, Organisation.__table__.c.name
_NAMES = select(_ORG_ID, _ORG_NAME).where(_ORG_ID.in_(bindparam("ids", expanding=True)))
_SLOTS = (1, 2, 4, 8, 16)
_NAMES_IN_SLOTS = {
    n: Prepared(
        select(_ORG_ID, _ORG_NAME).where(_ORG_ID.in_([bindparam(f"id{i}") for i in range(n)]))
    )
    for n in _SLOTS
}


async def names_on_path(session: AsyncSession, orgs: Iterable[Organisation]) -> dict[int, str]:
    """Full 'city/town/branch' names for many organisations in one query."""
    orgs = list(orgs)
    ids = list({i for o in orgs for i in ancestor_ids(o)})
    if not ids:
        return {}
    if len(ids) <= _SLOTS[-1]:
        slots = next(n for n in _SLOTS if n >= len(ids))
        params = {f"id{i}": ids[min(i, len(ids) - 1)] for i in range(slots)}
        name = dict(await fetch(session, _NAMES_IN_SLOTS[slots], params))
    else:  # a whole tree (the roster's export): once per call, the ORM's way is fine
        rows = await (await read_connection(session)).execute(_NAMES, {"ids": ids})
        name = dict(rows.all())
    return {o.id: PATH_SEP.join(name[i] for i in ancestor_ids(o)) for o in orgs}


async def display_path(session: AsyncSession, org: Organisation) -> str:
    return (await names_on_path(session, [org]))[org.id]


async def require_name_free(session: AsyncSession, parent_id: int | None, name: str) -> None:
    """Refused (`org.name_taken`) when the parent already has a unit of that name; the
    chat asks it at the name step, before the domain, so the name can be typed again."""
    clash = await session.execute(
        select(Organisation.id).where(
            Organisation.parent_id.is_(None)
            if parent_id is None
            else Organisation.parent_id == parent_id,
            Organisation.name == name,
        )
    )
    if clash.first() is not None:
        raise org_rules.name_taken(name)


async def create_org(
    session: AsyncSession,
    actor: Actor,
    now: datetime,
    *,
    name: str,
    kind: OrgKind | str,
    parent_id: int | None = None,
    domain: Domain | str | None = None,
) -> Organisation:
    name, kind, domain = org_rules.new_org(name, kind, domain)
    parent = await require_org(session, parent_id) if parent_id is not None else None
    org_rules.check_place(kind, parent.kind if parent else None, parent.name if parent else None)
    await require_name_free(session, parent_id, name)
    org = Organisation(
        parent_id=parent_id,
        kind=kind.value,
        name=name,
        domain=domain.value if domain else None,
        created_at=now,
    )
    session.add(org)
    await session.flush()
    org.path = org_rules.child_path(parent.path if parent else None, org.id)
    await session.flush()
    await audit.record(
        session,
        actor,
        now,
        "organisation",
        org.id,
        "create",
        org_rules.created_changes(name, kind, parent_id, domain),
    )
    return org


async def children_page(
    session: AsyncSession, parent_id: int | None, page: int = 0, size: int = PAGE_SIZE
) -> Page[Organisation]:
    cond = (
        Organisation.parent_id.is_(None)
        if parent_id is None
        else Organisation.parent_id == parent_id
    )
    stmt = select(Organisation).where(cond).order_by(Organisation.kind.desc(), Organisation.name)
    return await paginate(session, stmt, page, size)


async def member_counts(session: AsyncSession, orgs: Sequence[Organisation]) -> dict[int, int]:
    """Members (not left) in each organisation's whole subtree, in one grouped query."""
    if not orgs:
        return {}
    # Character-wise prefix, cut back to a separator: the nearest common ancestor.
    common = os.path.commonprefix([o.path for o in orgs])  # noqa: RUF071
    common = common[: common.rfind(PATH_SEP) + 1]
    rows = await session.execute(
        select(Organisation.path, func.count(Member.id))
        .join(Member, Member.org_id == Organisation.id)
        .where(Organisation.path.startswith(common), Member.status != MemberStatus.left.value)
        .group_by(Organisation.path)
    )
    counts = {o.id: 0 for o in orgs}
    for path, n in rows.all():
        for org in orgs:
            if path.startswith(org.path):
                counts[org.id] += n
    return counts


async def subtree_branch_ids(session: AsyncSession, root: Organisation) -> list[int]:
    rows = await session.execute(
        select(Organisation.id).where(
            Organisation.path.startswith(root.path), Organisation.kind == OrgKind.branch.value
        )
    )
    return list(rows.scalars())


async def find_by_path(session: AsyncSession, path: str) -> Organisation | None:
    """Resolve 'city/town/branch' (names) to an organisation."""
    parts = split_path(path)
    orgs = await resolve_paths(session, [parts], create=False)
    return orgs.get(parts)


async def resolve_paths(
    session: AsyncSession,
    paths: Iterable[tuple[str, ...]],
    *,
    create: bool,
    actor: Actor | None = None,
    now: datetime | None = None,
    leaf_domains: dict[tuple[str, ...], str] | None = None,
    kinds: dict[tuple[str, ...], str] | None = None,
    timezones: dict[tuple[str, ...], str] | None = None,
) -> dict[tuple[str, ...], Organisation]:
    """Map name paths to organisations, loading the tree once (a city has ~1,300 rows).

    With `create`, missing committees along a path and missing leaf branches are
    created (leaves get the domain given in `leaf_domains`), one level of the tree
    at a time in a few statements, so a whole city's first import stays fast.
    `kinds` and `timezones` set those of the paths they name (the tree file's rows).
    """
    wanted = {tuple(p) for p in paths}
    all_orgs = (await session.execute(select(Organisation))).scalars().all()
    by_key: dict[tuple[int | None, str], Organisation] = {
        (o.parent_id, o.name): o for o in all_orgs
    }
    at: dict[tuple[str, ...], Organisation] = {}
    for depth in range(1, max(map(len, wanted), default=0) + 1):
        missing: dict[tuple[str, ...], Organisation | None] = {}
        for prefix in {p[:depth] for p in wanted if len(p) >= depth}:
            parent = at.get(prefix[:-1])
            if depth > 1 and parent is None:
                continue
            node = by_key.get((parent.id if parent else None, prefix[-1]))
            if node is not None:
                at[prefix] = node
            elif create:
                missing[prefix] = parent
        if missing:
            created = await _create_level(
                session,
                actor or Actor.cli(),
                now,
                missing,
                wanted,
                leaf_domains or {},
                kinds or {},
                timezones or {},
            )
            at.update(created)
            by_key.update({(o.parent_id, o.name): o for o in created.values()})
    return {p: at[p] for p in wanted if p in at}


async def _create_level(
    session: AsyncSession,
    actor: Actor,
    now: datetime | None,
    missing: dict[tuple[str, ...], Organisation | None],
    leaves: set[tuple[str, ...]],
    leaf_domains: dict[tuple[str, ...], str],
    kinds: dict[tuple[str, ...], str],
    timezones: dict[tuple[str, ...], str],
) -> dict[tuple[str, ...], Organisation]:
    """Siblings-and-cousins in one INSERT, one path UPDATE and one audit INSERT."""
    rows = []
    for prefix, parent in missing.items():
        name = clean_name(prefix[-1])
        if prefix in kinds:
            kind = OrgKind(kinds[prefix])
        else:
            kind = OrgKind.branch if prefix in leaves else OrgKind.committee
        domain = leaf_domains.get(prefix) if kind is OrgKind.branch else None
        if kind is OrgKind.branch and domain is None:
            raise ServiceError("org.domain_required")
        org_rules.check_place(
            kind, parent.kind if parent else None, parent.name if parent else None
        )
        parent_id = parent.id if parent else None
        rows.append(
            {
                "parent_id": parent_id,
                "path": "",
                "kind": kind.value,
                "name": name,
                "domain": Domain(domain).value if domain else None,
                "timezone": timezones.get(prefix),
                "created_at": now,
            }
        )
    table = Organisation.__table__
    c = table.c
    result = await session.execute(insert(table).returning(c.id, c.parent_id, c.name), rows)
    ids = {(parent_id, name): id_ for id_, parent_id, name in result.all()}
    paths = {o.id: o.path for o in missing.values() if o is not None}
    new_path = {
        id_: org_rules.child_path(paths.get(parent_id), id_) for (parent_id, _), id_ in ids.items()
    }
    await session.execute(
        update(table).where(c.id == bindparam("org_id")).values(path=bindparam("new_path")),
        [{"org_id": i, "new_path": p} for i, p in new_path.items()],
    )
    await audit.record_many(
        session,
        actor,
        now,  # type: ignore[arg-type]
        [
            (
                "organisation",
                ids[(r["parent_id"], r["name"])],
                "create",
                org_rules.created_changes(r["name"], r["kind"], r["parent_id"], r["domain"]),
            )
            for r in rows
        ],
    )
    loaded = await session.execute(select(Organisation).where(c.id.in_(list(new_path))))
    by_id = {o.id: o for o in loaded.scalars()}
    return {
        prefix: by_id[ids[(parent.id if parent else None, clean_name(prefix[-1]))]]
        for prefix, parent in missing.items()
    }
