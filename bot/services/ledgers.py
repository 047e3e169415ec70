"""The ratings ledger (Excel): a month's snapshots per branch and per item, and the
year's published Vanguard results per member, for filing.

`ratings_ledger` reads them under the roots in four queries (the snapshots with their
branch, the members' published results, the sub-committee names on the paths, the
names of the staff who confirmed); `write_ratings_xlsx` streams them out with
`bot.services.xlsx` (a city's ~40,000 item rows: openpyxl spent seconds on them).

Sheets: one row per branch (score per basic, proposed and confirmed star, by whom),
one row per item (points, possible, the evidence value the rule read, the months it
covers), and one row per member with a published result of the period's year or the year before
(`grades.member_results`: the Vanguard Index, the grade, approved or awaiting approval
— never a vote count; no results, no sheet).

Every text cell from people goes through `xlsx.cell`: a branch or person name starting
with = + - @ or a tab/CR is a plain string marked "quote prefix", never a formula.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Organisation, PeriodSnapshot, Staff
from bot.services import grades
from bot.services.periods import _under, check_period
from bot.services.xlsx import Workbook, cell
from scoring import FortressRubric

Gettext = Callable[[str], str]


@dataclass(frozen=True)
class LedgerBranch:
    org_id: int
    committee: str  # the sub-committee directly above, by name
    name: str
    domain: str | None
    score: Decimal
    max_score: Decimal
    dimensions: dict[str, tuple[Decimal, Decimal]]
    proposed: int
    confirmed: int | None
    confirmed_by: str | None
    reason: str | None
    meets: bool
    items: list[tuple[str, Decimal, Decimal, Any, str, str, str]]  # key, pts, max, value…


@dataclass(frozen=True)
class RatingsLedger:
    period: str
    branches: list[LedgerBranch]
    members: list[grades.MemberResultRow]  # published Vanguard results of the year
    committees: dict[str, str]  # a branch's path → the sub-committee directly above


async def ratings_ledger(
    session: AsyncSession, period: str, roots: Iterable[Organisation | None]
) -> RatingsLedger:
    """The period's frozen results under `roots` (None: the whole tree), by path."""
    check_period(period)
    roots = list(roots)
    stmt = (
        select(PeriodSnapshot, Organisation.name, Organisation.domain, Organisation.path)
        .join(Organisation, Organisation.id == PeriodSnapshot.org_id)
        .where(PeriodSnapshot.period == period)
    )
    scope = _under(roots)
    if scope is not None:
        stmt = stmt.where(scope)
    # Sorted here: SQLite would sort the rows with their breakdowns in a temporary file.
    rows = sorted((await session.execute(stmt)).all(), key=lambda row: row[-1])
    members = await grades.member_results(session, period, roots)
    paths = {p for *_, p in rows} | {m.path for m in members}
    parent_ids = {_parent_id(p) for p in paths} - {None}
    parents = (
        dict(
            (
                await session.execute(
                    select(Organisation.id, Organisation.name).where(
                        Organisation.id.in_(parent_ids)
                    )
                )
            ).all()
        )
        if parent_ids
        else {}
    )
    confirmers = {s.confirmed_by for s, *_ in rows if s.confirmed_by is not None}
    staff = (
        dict(
            (
                await session.execute(
                    select(Staff.telegram_id, Staff.name).where(Staff.telegram_id.in_(confirmers))
                )
            ).all()
        )
        if confirmers
        else {}
    )
    committees = {p: parents.get(_parent_id(p), "") for p in paths}
    branches = []
    for snap, name, domain, path in rows:
        b = snap.breakdown or {}
        fields = b.get("item_fields") or []
        at = {f: i for i, f in enumerate(fields)}
        items = (
            [
                (
                    key,
                    Decimal(row[at["points"]]),
                    Decimal(row[at["max"]]),
                    row[at["value"]],
                    row[at["rule"]],
                    row[at["from"]],
                    row[at["to"]],
                )
                for key, row in (b.get("items") or {}).items()
            ]
            if at
            else []
        )
        by = snap.confirmed_by
        branches.append(
            LedgerBranch(
                org_id=snap.org_id,
                committee=committees[path],
                name=name,
                domain=domain,
                score=Decimal(snap.score),
                max_score=Decimal(snap.max_score),
                dimensions={
                    k: (Decimal(v[0]), Decimal(v[1]))
                    for k, v in (b.get("dimensions") or {}).items()
                },
                proposed=snap.proposed_star,
                confirmed=snap.confirmed_star,
                confirmed_by=None if by is None else staff.get(by, str(by)),
                reason=snap.adjust_reason,
                meets=bool(snap.meets_standard),
                items=items,
            )
        )
    return RatingsLedger(period, branches, members, committees)


def _parent_id(path: str) -> int | None:
    """The organisation directly above the one at `path` ("/1/5/22/" → 5)."""
    parts = path.strip("/").split("/")
    return int(parts[-2]) if len(parts) > 1 else None


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def write_ratings_xlsx(
    ledger: RatingsLedger,
    rubric: FortressRubric,
    target: str | Path | IO[bytes],
    _: Gettext,
    zh: bool,
) -> int:
    """Write the ledger; returns the number of branch rows. Pure CPU and no database:
    the chat runs it in a worker thread."""
    from bot.texts import category_label, domain_label, grade_label

    def named(thing) -> str:
        return thing.name_zh if zh else thing.name_en

    book = Workbook(target)
    dims = list(rubric.dimensions)
    header = [
        _("Sub-committee"),
        _("Branch"),
        _("Domain"),
        _("Score"),
        _("Maximum"),
        *(named(d) for d in dims),
        _("Proposed stars"),
        _("Confirmed stars"),
        _("Confirmed"),
        _("Confirmed by"),
        _("Reason for the change"),
        _("Meets the standard"),
    ]
    widths = [24, 30, 14, 9, 9, *([14] * len(dims)), 12, 12, 10, 14, 30, 12]
    sheet = book.sheet(_("Branches") + " " + ledger.period, header, widths)
    yes, no = _("yes"), _("no")
    domains: dict[str | None, str] = {}
    for b in ledger.branches:
        if b.domain not in domains:
            domains[b.domain] = domain_label(b.domain, _)
        sheet.append(
            [
                cell(b.committee),
                cell(b.name),
                domains[b.domain],
                _number(b.score),
                _number(b.max_score),
                *(_number(b.dimensions.get(d.key, (Decimal(0), 0))[0]) for d in dims),
                b.proposed,
                b.confirmed,
                yes if b.confirmed is not None else no,
                cell(b.confirmed_by),
                cell(b.reason),
                yes if b.meets else no,
            ]
        )
    items = book.sheet(
        _("Items") + " " + ledger.period,
        [
            _("Branch"),
            _("Item"),
            _("Basic"),
            _("Score"),
            _("Possible"),
            _("Evidence"),
            _("From"),
            _("To"),
        ],
        [30, 36, 16, 9, 9, 10, 10, 10],
    )
    dim_names = {d.key: named(d) for d in dims}
    known: dict[str, tuple[str, str]] = {}
    for b in ledger.branches:
        branch = cell(b.name)
        for key, points, most, value, _rule, first, last in b.items:
            if key not in known:
                try:
                    item = rubric.item(key)
                    known[key] = (named(item), dim_names.get(item.dimension, ""))
                except KeyError:
                    known[key] = (key, "")
            name, dim = known[key]
            if isinstance(value, str):
                try:
                    value = _number(Decimal(value))
                except ArithmeticError:
                    value = cell(value)
            items.append([branch, name, dim, _number(points), _number(most), value, first, last])
    if ledger.members:
        people = book.sheet(
            _("Members"),
            [
                _("Sub-committee"),
                _("Branch"),
                _("Member"),
                _("Category"),
                _("Evaluation period"),
                _("Vanguard Index"),
                _("Grade"),
                _("Approved by the superior"),
            ],
            [24, 30, 16, 22, 10, 12, 14, 10],
        )
        labels: dict[str, str] = {}
        where: dict[str, tuple] = {}  # a branch's cells, shared by its members
        for m in ledger.members:
            for key, word in ((m.grade, grade_label), (m.category, category_label)):
                if key not in labels:
                    labels[key] = word(key, _)
            if m.path not in where:
                where[m.path] = (cell(ledger.committees.get(m.path, "")), cell(m.branch))
            people.append(
                [
                    *where[m.path],
                    cell(m.name),
                    labels[m.category],
                    m.period,
                    _number(m.score),
                    labels[m.grade],
                    yes if m.final else no,
                ]
            )
    book.save()
    return len(ledger.branches)
