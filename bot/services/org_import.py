"""The organisation tree from a file: create or update every committee and branch at once.

Each row names one organisation, either by its full path (某某市委/某某镇党委/某某村党支部)
or by its superior's path and its own name, with its kind (党委/党总支/党支部 …), its
domain (branches only) and optionally a time zone. The file is checked whole and
written in one go only when no row has a problem (the caller owns the transaction);
the problems use the roster's `RowError`, so both files report the same way.

Rules: every superior must exist already or be a row of the file (a misspelt town is
reported, never created); a new top-level organisation only into an empty tree; an
existing organisation keeps its kind; its domain and time zone follow the file (an
empty cell leaves them as they are). Importing the same file again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Organisation, OrgKind
from bot.services import audit, orgs, vocabulary
from bot.services.audit import Actor
from bot.services.errors import ServiceError
from bot.services.roster import (
    Progress,
    RosterFile,
    RosterFileError,
    RowError,
    _cell_text,
    read_sheet,
)

ORG_FIELDS = ("path", "parent", "name", "kind", "domain", "timezone")
HEADERS = {
    "zh": {
        "path": "路径",
        "parent": "上级党组织",
        "name": "名称",
        "kind": "类型",
        "domain": "领域",
        "timezone": "时区",
    },
    "en": {f: f for f in ORG_FIELDS},
}
_HEADER_LOOKUP = vocabulary.lookup(vocabulary.ORG_HEADER_WORDS)


def read_org_file(path: str | Path, progress: Progress | None = None) -> RosterFile:
    sheet = read_sheet(path, progress, _HEADER_LOOKUP, ())
    if "path" not in sheet.columns and "name" not in sheet.columns:
        raise RosterFileError("roster.missing_columns", columns=["path"])
    return sheet


@dataclass(frozen=True)
class OrgRow:
    row: int
    path: tuple[str, ...]
    kind: str | None
    domain: str | None
    timezone: str | None
    # Fields whose cell was refused: the row is still checked against the tree for its
    # other cells' sake, then left out of the plan.
    bad: frozenset[str] = frozenset()


@dataclass
class OrgPlan:
    errors: list[RowError] = field(default_factory=list)
    creates: list[OrgRow] = field(default_factory=list)
    updates: list[tuple[int, dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    unchanged: int = 0

    @property
    def counts(self) -> tuple[int, int, int]:
        return len(self.creates), len(self.updates), self.unchanged


def _rows(sheet: RosterFile, errors: list[RowError]) -> list[OrgRow]:
    def error(row: int, field_name: str, code: str, value: Any = "", **kw: Any) -> None:
        errors.append(RowError(row, sheet.label(field_name), code, _cell_text(value), **kw))

    field_of = {sheet.label(f): f for f in ORG_FIELDS}
    out: list[OrgRow] = []
    for number, values in sheet.rows:
        before = len(errors)
        text = {f: _cell_text(values.get(f)) for f in ORG_FIELDS}
        path: tuple[str, ...] | None = None
        column = "path" if text["path"] else "name"
        whole = text["path"] or "/".join(p for p in (text["parent"], text["name"]) if p)
        if not whole:
            error(number, column, "path_missing")
        else:
            try:
                path = orgs.split_path(whole)
                for part in path:
                    orgs.clean_name(part)
            except ServiceError as err:
                code = "path_formula" if err.code == "name.formula" else "branch_bad_path"
                error(number, column, code, whole)
                path = None
        kind = domain = timezone = None
        if text["kind"]:
            kind = vocabulary.meaning("kind", text["kind"])
            if kind is None:
                near = vocabulary.closest_word("kind", text["kind"]) or ""
                error(number, "kind", "kind_unknown", text["kind"], suggestion=near)
        if text["domain"]:
            domain = vocabulary.meaning("domain", text["domain"])
            if domain is None:
                near = vocabulary.closest_word("domain", text["domain"]) or ""
                error(number, "domain", "domain_unknown", text["domain"], suggestion=near)
        if text["timezone"]:
            try:
                ZoneInfo(text["timezone"])
                timezone = text["timezone"]
            except (ZoneInfoNotFoundError, ValueError):
                error(number, "timezone", "timezone_unknown", text["timezone"])
        if path is not None:
            bad = frozenset(field_of[e.column] for e in errors[before:])
            out.append(OrgRow(number, path, kind, domain, timezone, bad))
    return out


async def plan_org_import(session: AsyncSession, sheet: RosterFile) -> OrgPlan:
    """Check every row against the file and the tree; decide what each one does."""
    plan = OrgPlan()
    rows = _rows(sheet, plan.errors)
    label = sheet.label
    path_col = label("path") if "path" in sheet.columns else label("name")

    def error(r: OrgRow, column: str, code: str, value: str = "", **kw: Any) -> None:
        plan.errors.append(RowError(r.row, column, code, value, **kw))

    first: dict[tuple[str, ...], int] = {}
    unique: list[OrgRow] = []
    for r in rows:
        if r.path in first:
            error(r, path_col, "org_duplicate", "/".join(r.path), other_row=first[r.path])
        else:
            first[r.path] = r.row
            unique.append(r)
    parents = {r.path[:-1] for r in unique if len(r.path) > 1}

    loaded = await session.execute(
        select(
            Organisation.id,
            Organisation.parent_id,
            Organisation.name,
            Organisation.kind,
            Organisation.domain,
            Organisation.timezone,
        )
    )
    tree = loaded.all()
    by_id = {o.id: o for o in tree}
    paths: dict[int, tuple[str, ...]] = {}

    def path_of(o: Any) -> tuple[str, ...]:
        if o.id not in paths:
            up = by_id.get(o.parent_id)
            paths[o.id] = (path_of(up) if up else ()) + (o.name,)
        return paths[o.id]

    existing = {path_of(o): o for o in tree}
    roots = sorted(p[0] for p in existing if len(p) == 1)
    existing_parents = {p[:-1] for p in existing}
    new_roots = {r.path for r in unique if len(r.path) == 1 and r.path not in existing}

    for r in unique:
        text = "/".join(r.path)
        has_children = r.path in parents or r.path in existing_parents
        kind = r.kind or (
            OrgKind.committee.value if has_children or not r.domain else OrgKind.branch.value
        )
        found = existing.get(r.path)
        up = r.path[:-1]
        problems = len(plan.errors)
        # Every cell of the row is checked, each against the tree and the file: the
        # administrator fixes a row once, not once per problem. One problem per column.
        if up and up not in existing and up not in first:
            names = [p[-1] for p in [*existing, *first] if len(p) == len(up)]
            near = vocabulary.did_you_mean(up[-1], names) or ""
            error(r, path_col, "parent_unknown", "/".join(up), suggestion=near)
        elif up and (existing.get(up) and existing[up].kind == OrgKind.branch.value):
            error(r, path_col, "branch_under_branch", text, detail=up[-1])
        elif not up and found is None and (roots or len(new_roots) > 1):
            code = "root_unknown" if roots else "root_several"
            near = vocabulary.did_you_mean(r.path[0], roots) or ""
            error(r, path_col, code, r.path[0], detail=", ".join(roots), suggestion=near)
        # A kind guessed from a refused domain cell is no ground for more problems.
        kind_known = "kind" not in r.bad and (r.kind is not None or "domain" not in r.bad)
        if kind_known:
            if kind == OrgKind.branch.value and r.path in parents:
                other = min(x.row for x in unique if x.path[:-1] == r.path)
                error(r, label("kind"), "branch_used_as_committee", text, other_row=other)
            elif kind == OrgKind.branch.value and not up:
                error(r, label("kind"), "branch_at_top", text)
            elif found is not None and found.kind != kind:
                error(r, label("kind"), "kind_mismatch", text, detail=found.kind)
        if kind_known and "domain" not in r.bad:
            if kind == OrgKind.committee.value and r.domain:
                error(r, label("domain"), "domain_on_committee", text)
            elif found is None and kind == OrgKind.branch.value and not r.domain:
                error(r, label("domain"), "domain_required", text)
        if r.bad or len(plan.errors) > problems:
            continue
        if found is None:
            plan.creates.append(OrgRow(r.row, r.path, kind, r.domain, r.timezone))
            continue
        old: dict[str, Any] = {}
        new: dict[str, Any] = {}
        for column, value in (("domain", r.domain), ("timezone", r.timezone)):
            if value is not None and getattr(found, column) != value:
                old[column], new[column] = getattr(found, column), value
        if new:
            plan.updates.append((found.id, old, new))
        else:
            plan.unchanged += 1
    plan.errors.sort(key=lambda e: (e.row, e.column))
    return plan


async def apply_org_plan(
    session: AsyncSession, plan: OrgPlan, *, actor: Actor, now: datetime
) -> tuple[int, int, int]:
    """Create the new organisations a level at a time, then update the changed ones."""
    if plan.errors:
        raise ServiceError("orgs.invalid", count=len(plan.errors))
    if plan.creates:
        await orgs.resolve_paths(
            session,
            [r.path for r in plan.creates],
            create=True,
            actor=actor,
            now=now,
            leaf_domains={r.path: r.domain for r in plan.creates if r.domain},
            kinds={r.path: r.kind for r in plan.creates if r.kind},
            timezones={r.path: r.timezone for r in plan.creates if r.timezone},
        )
    log = []
    for org_id, old, new in plan.updates:
        await session.execute(update(Organisation).where(Organisation.id == org_id).values(**new))
        log.append(("organisation", org_id, "update", audit.diff(old, new)))
    await audit.record_many(session, actor, now, log)
    return plan.counts


def example_rows(lang: str) -> list[list[str]]:
    """The template's example: a city committee, a town committee and two branches."""
    if lang == "zh":
        return [
            ["某某市委", "党委", "", ""],
            ["某某市委/某某镇党委", "党委", "", ""],
            ["某某市委/某某镇党委/某某村党支部", "党支部", "农村", ""],
            ["某某市委/某某镇党委/某某社区党支部", "党支部", "城市社区", "Asia/Shanghai"],
        ]
    return [
        ["City committee", "committee", "", ""],
        ["City committee/Town committee", "committee", "", ""],
        ["City committee/Town committee/Village branch", "branch", "village", ""],
        ["City committee/Town committee/Community branch", "branch", "community", ""],
    ]


def columns(lang: str) -> list[str]:
    h = HEADERS["zh" if lang.startswith("zh") else "en"]
    return [h["path"], h["kind"], h["domain"], h["timezone"]]
