"""The ratings ledger (Excel): a month's snapshots per branch and per item, for filing.

`ratings_ledger` reads the period's snapshots under the roots in three queries (the
snapshots with their branch, the sub-committee names on the paths, the names of the
staff who confirmed); `write_ratings_xlsx` writes them with openpyxl in write-only
mode (a city's ~50,000 item rows stream out without building cells in memory).

Sheets: one row per branch (score per basic, proposed and confirmed star, by whom),
one row per item (points, possible, the evidence value the rule read, the months it
covers), and one row per member once Vanguard evaluations produce results
(`grades.member_results`: an empty list leaves the sheet out).

Every text cell goes through `safetext.xlsx_cell`: a branch or person name starting with = + - @
or a tab/CR is written as a plain string marked "quote prefix", never as a formula.
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
from bot.services.safetext import xlsx_cell
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
    members: list[grades.MemberResultRow]


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
        .order_by(Organisation.path)
    )
    scope = _under(roots)
    if scope is not None:
        stmt = stmt.where(scope)
    rows = (await session.execute(stmt)).all()
    parent_ids = {int(p.strip("/").split("/")[-2]) for *_, p in rows if p.count("/") > 2}
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
    branches = []
    for snap, name, domain, path in rows:
        parts = path.strip("/").split("/")
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
                committee=parents.get(int(parts[-2]), "") if len(parts) > 1 else "",
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
    members = await grades.member_results(session, period, roots)
    return RatingsLedger(period, branches, members)


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _sheet(book, title: str, header: list[str], widths: list[int]):
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    sheet = book.create_sheet(title)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    cells = []
    for text in header:
        cell = WriteOnlyCell(sheet, text)
        cell.font = bold
        cells.append(cell)
    sheet.append(cells)
    return sheet


def write_ratings_xlsx(
    ledger: RatingsLedger,
    rubric: FortressRubric,
    target: str | Path | IO[bytes],
    _: Gettext,
    zh: bool,
) -> int:
    """Write the ledger; returns the number of branch rows."""
    from openpyxl import Workbook

    from bot.texts import domain_label

    def named(thing) -> str:
        return thing.name_zh if zh else thing.name_en

    book = Workbook(write_only=True)
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
    sheet = _sheet(book, _("Branches") + " " + ledger.period, header, widths)
    yes, no = _("yes"), _("no")
    for b in ledger.branches:
        sheet.append(
            [
                xlsx_cell(sheet, b.committee),
                xlsx_cell(sheet, b.name),
                domain_label(b.domain, _),
                _number(b.score),
                _number(b.max_score),
                *(_number(b.dimensions.get(d.key, (Decimal(0), 0))[0]) for d in dims),
                b.proposed,
                b.confirmed,
                yes if b.confirmed is not None else no,
                xlsx_cell(sheet, b.confirmed_by),
                xlsx_cell(sheet, b.reason),
                yes if b.meets else no,
            ]
        )
    items = _sheet(
        book,
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
                    value = xlsx_cell(items, value)
            items.append(
                [
                    xlsx_cell(items, b.name),
                    name,
                    dim,
                    _number(points),
                    _number(most),
                    value,
                    first,
                    last,
                ]
            )
    if ledger.members:
        people = _sheet(
            book,
            _("Members"),
            [_("Branch"), _("Member"), _("Grade"), _("Score")],
            [30, 16, 14, 9],
        )
        for m in ledger.members:
            score = None if m.score is None else _number(m.score)
            people.append([xlsx_cell(people, m.branch), xlsx_cell(people, m.name), m.grade, score])
    book.save(target)
    return len(ledger.branches)
