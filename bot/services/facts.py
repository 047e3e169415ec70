"""A branch's facts for the scoring engine, read from the database in aggregate.

`facts_for_branches` is the hot path of month close: a whole city in five queries
(branches, meetings, evidence counts, grades, featured choices), each one GROUP BY or
a narrow Core select, never a query per branch and never an ORM object per row.

What is read, and why:

- the span starts in January of the year *before* the period's year, not in January
  of the period's year: the engine folds 24 months and lets an item whose period is
  still open keep the previous period's credit (a yearly item in January carries
  last year's). Reading less would change scores early in the year;
- meetings are grouped by (branch, kind, month, counts). The engine counts one held
  meeting per `Meeting` and sums attendance per month, so a group of n meetings
  becomes one `Meeting` with the group's sums plus n−1 shared empty ones: the same
  score as one object per meeting, without a Python object per row;
- events, tasks and flags are `GROUP BY key, month` sums, as the engine wants;
- a grade counts for its item's current period (the latest grade given in it); while
  that period is still open and has no grade yet, the previous period's grade stands,
  which is how the engine treats every other item ("not yet due" is not "failed").
  Knowing an item's period needs the rubric; without one, a grade stands for the
  calendar year it was given in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import BranchFeatured, Evidence, Meeting, Organisation, OrgKind
from scoring import BranchFacts, FortressRubric, due_date, period_bounds
from scoring import Meeting as FactMeeting
from scoring.periods import Period, month_key, parse_month

# Evidence.kind → the BranchFacts field it feeds; grades are read apart.
COUNT_KINDS = {"event": "events", "task": "tasks", "flag": "flags"}
GRADE = "grade"


@dataclass(frozen=True, slots=True)
class Span:
    """The months a period's score depends on, as dates and as YYYY-MM keys."""

    first_day: date
    last_day: date
    first_month: str
    last_month: str


def span_of(period: str) -> Span:
    year, _ = parse_month(period)
    return Span(date(year - 1, 1, 1), due_date(period, Period.MONTH), f"{year - 1:04d}-01", period)


def month_of(session: AsyncSession, column) -> ColumnElement[str]:
    """`YYYY-MM` of a DATE column, computed by the database."""
    if session.get_bind().dialect.name == "sqlite":
        # SQLite keeps dates as ISO text: a prefix is cheaper than strftime().
        return func.substr(column, 1, 7)
    return func.to_char(column, "YYYY-MM")


async def branch_facts(
    session: AsyncSession,
    branch: Organisation,
    period: str,
    *,
    rubric: FortressRubric | None = None,
) -> BranchFacts:
    """One branch's facts up to the end of `period` (see the module docstring)."""
    return (await facts_for_branches(session, [branch], period, rubric=rubric))[0]


async def facts_for_branches(
    session: AsyncSession,
    branches: Sequence[Organisation] | None,
    period: str,
    root: Organisation | None = None,
    *,
    rubric: FortressRubric | None = None,
) -> list[BranchFacts]:
    """Facts of `branches`, or of every branch under `root` (the whole tree if both None).

    The result is in the order of `branches`, or by branch id when they are looked up.
    """
    span = span_of(period)
    if branches is not None:
        pairs = [(b.id, b.domain) for b in branches]
        if not pairs:
            return []
        prefix = _common_prefix([b.path for b in branches])
    else:
        stmt = select(Organisation.id, Organisation.domain).where(
            Organisation.kind == OrgKind.branch.value
        )
        if root is not None:
            stmt = stmt.where(Organisation.path.startswith(root.path))
        pairs = [tuple(r) for r in (await session.execute(stmt.order_by(Organisation.id))).all()]
        prefix = root.path if root is not None else None
    ids = [i for i, _ in pairs]

    def scoped(stmt, org_col):
        # One branch: by id (indexed). Several: by their common subtree, dropping rows of
        # branches not asked for in Python; a 1,221-element IN list costs more than that.
        if len(ids) == 1:
            return stmt.where(org_col == ids[0])
        if prefix is None:
            return stmt
        return stmt.where(
            org_col.in_(select(Organisation.id).where(Organisation.path.startswith(prefix)))
        )

    month = month_of(session, Meeting.held_on)
    meetings = await session.execute(
        scoped(
            select(
                Meeting.org_id,
                Meeting.kind,
                month,
                Meeting.counts,
                func.count(),
                func.sum(Meeting.attended),
                func.sum(Meeting.expected),
            )
            .where(Meeting.held_on >= span.first_day, Meeting.held_on <= span.last_day)
            .group_by(Meeting.org_id, Meeting.kind, month, Meeting.counts),
            Meeting.org_id,
        )
    )
    counts = await session.execute(
        scoped(
            select(
                Evidence.org_id,
                Evidence.kind,
                Evidence.key,
                Evidence.month,
                func.sum(Evidence.count),
            )
            .where(
                Evidence.month >= span.first_month,
                Evidence.month <= span.last_month,
                Evidence.kind != GRADE,
            )
            .group_by(Evidence.org_id, Evidence.kind, Evidence.key, Evidence.month),
            Evidence.org_id,
        )
    )
    grades = await session.execute(
        scoped(
            select(Evidence.org_id, Evidence.key, Evidence.month, Evidence.grade)
            .where(
                Evidence.month >= span.first_month,
                Evidence.month <= span.last_month,
                Evidence.kind == GRADE,
                Evidence.grade.is_not(None),
            )
            .order_by(Evidence.month, Evidence.id),
            Evidence.org_id,
        )
    )
    featured = await session.execute(
        scoped(
            select(BranchFeatured.org_id, BranchFeatured.item_key).order_by(
                BranchFeatured.item_key
            ),
            BranchFeatured.org_id,
        )
    )

    by_id: dict[int, BranchFacts] = {
        i: BranchFacts(i, d or "", period, [], {}, {}, {}, {}, []) for i, d in pairs
    }
    _add_meetings(by_id, meetings.all())
    for org_id, kind, key, mon, n in counts.all():
        facts = by_id.get(org_id)
        field = COUNT_KINDS.get(kind)
        if facts is not None and field is not None:
            getattr(facts, field).setdefault(key, {})[mon] = int(n)
    _add_grades(by_id, grades.all(), period, rubric)
    for org_id, key in featured.all():
        facts = by_id.get(org_id)
        if facts is not None:
            facts.featured.append(key)
    return [by_id[i] for i in ids]


def _common_prefix(paths: Sequence[str]) -> str | None:
    """The deepest organisation path above all of `paths` (None: the whole tree)."""
    low, high = min(paths), max(paths)
    # Sorted strings: what the smallest and the largest share, all of them share.
    n = 0
    while n < min(len(low), len(high)) and low[n] == high[n]:
        n += 1
    return low[: low.rfind("/", 0, n) + 1] or None


def _add_meetings(by_id: dict[int, BranchFacts], rows: Iterable[tuple]) -> None:
    days: dict[str, date] = {}
    for org_id, kind, mon, counted, n, attended, expected in rows:
        facts = by_id.get(org_id)
        if facts is None:
            continue
        day = days.get(mon)
        if day is None:
            day = days[mon] = date(*parse_month(mon), 1)
        counted = bool(counted)
        facts.meetings.append(
            FactMeeting(kind, day, int(attended or 0), int(expected or 0), counted)
        )
        if n > 1:
            facts.meetings.extend([FactMeeting(kind, day, 0, 0, counted)] * (n - 1))


def _add_grades(
    by_id: dict[int, BranchFacts],
    rows: Iterable[tuple],
    period: str,
    rubric: FortressRubric | None,
) -> None:
    """Keep, per branch and item, the grade that stands in `period` (rows come oldest first)."""
    windows: dict[str, tuple[str, str]] = {}  # item → (its period's first month, carry from)
    current: dict[tuple[int, str], str] = {}
    carried: dict[tuple[int, str], str] = {}
    for org_id, key, mon, grade in rows:
        if org_id not in by_id:
            continue
        window = windows.get(key)
        if window is None:
            item_period = _grade_period(rubric, key)
            first, last = period_bounds(period, item_period)
            still_open = last != period
            window = windows[key] = (
                first,
                _month_before(first, item_period) if still_open else first,
            )
        if mon >= window[0]:
            current[org_id, key] = grade
        elif mon >= window[1]:
            carried[org_id, key] = grade
    for (org_id, key), grade in (carried | current).items():
        by_id[org_id].grades[key] = grade


def _grade_period(rubric: FortressRubric | None, key: str) -> Period:
    if rubric is None:
        return Period.YEAR
    try:
        return rubric.item(key).period
    except KeyError:
        return Period.YEAR


def _month_before(first: str, period: Period) -> str:
    """First month of the period before the one starting at `first`."""
    year, mon = parse_month(first)
    previous = month_key(year - 1, 12) if mon == 1 else month_key(year, mon - 1)
    return period_bounds(previous, period)[0]
