"""A branch's facts for the scoring engine, read from the database in aggregate.

`facts_for_branches` is the hot path of month close: a whole city in four queries
(branches, meetings, evidence counts and grades, featured choices), each one GROUP BY
or a narrow Core select, never a query per branch and never an ORM object per row.

What is read, and why:

- the span starts in January of the year *before* the period's year, not in January
  of the period's year: the engine folds 24 months and lets an item whose period is
  still open keep the previous period's credit (a yearly item in January carries
  last year's). Reading less would change scores early in the year;
- meetings are grouped by (branch, month, kind), counting those that count. The
  engine counts one held meeting per `Meeting` and sums attendance per month, so a
  group of n meetings becomes one `Meeting` with the group's sums plus n−1 shared
  empty ones: the same score as one object per meeting, without an object per row;
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
from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, Select, bindparam, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import operators
from sqlalchemy.sql.expression import UnaryExpression

from bot.db.models import BranchFeatured, Evidence, FactsToken, Meeting, Organisation, OrgKind
from scoring import BranchFacts, FortressRubric, due_date, period_bounds
from scoring import Meeting as FactMeeting
from scoring.batch import no_cycle_collection
from scoring.model import Part
from scoring.periods import Period, month_key, parse_month

DEFAULT_TZ = "Asia/Shanghai"  # when an organisation names no time zone
GRADE = "grade"  # the other Evidence kinds, event, task and flag, feed events/tasks/flags


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


def month_of(dialect: str, column) -> ColumnElement[str]:
    """`YYYY-MM` of a DATE column, computed by the database."""
    if dialect == "sqlite":
        # SQLite keeps dates as ISO text: a prefix is cheaper than strftime().
        return func.substr(column, 1, 7)
    return func.to_char(column, "YYYY-MM")


def range_column(dialect: str, column) -> ColumnElement:
    """`column` for a range filter that must not pick the plan.

    Without ANALYZE statistics SQLite serves a date range from a single-column index
    and visits every row it names, at random; `+column` keeps that index out, so the
    covering (branch, date, …) index of migration 0003 answers the GROUP BY alone.
    PostgreSQL plans from its statistics and gets the plain column.
    """
    if dialect != "sqlite":
        return column
    return UnaryExpression(column, operator=operators.custom_op("+"), type_=column.type)


_TOKENS: dict[int, Select] = {}  # by how many organisations: a fixed IN list is cheaper


async def facts_tokens(session: AsyncSession, org_ids: Sequence[int]) -> tuple[int | None, ...]:
    """The facts token of each of `org_ids` (None: nothing written yet), in that order.

    Triggers replace an organisation's token in the statement that changes its facts
    (migration 0012): equal tokens, equal facts. Read them before the facts they vouch for.
    """
    n = len(org_ids)
    stmt = _TOKENS.get(n)
    if stmt is None:
        c = FactsToken.__table__.c
        names = [bindparam(f"o{i}") for i in range(n)]
        stmt = _TOKENS[n] = select(c.org_id, c.token).where(c.org_id.in_(names))
    params = {f"o{i}": org_id for i, org_id in enumerate(org_ids)}
    found = dict((await session.execute(stmt, params)).all())
    return tuple(found.get(i) for i in org_ids)


async def branch_facts(
    session: AsyncSession,
    branch: Organisation,
    period: str,
    *,
    rubric: FortressRubric | None = None,
    month_open: bool = False,
) -> BranchFacts:
    """One branch's facts up to the end of `period` (see the module docstring)."""
    found = await facts_for_branches(
        session, [branch], period, rubric=rubric, month_open=month_open
    )
    return found[0]


async def facts_for_branches(
    session: AsyncSession,
    branches: Sequence[Organisation] | None,
    period: str,
    root: Organisation | None = None,
    *,
    rubric: FortressRubric | None = None,
    month_open: bool = False,
) -> list[BranchFacts]:
    """Facts of `branches`, or of every branch under `root` (the whole tree if both None).

    The result is in the order of `branches`, or by branch id when they are looked up.
    `month_open`: `period` is still in progress, so it cannot have been missed yet.
    """
    span = span_of(period)
    if branches is not None:
        rows = [(b.id, b.domain, b.created_at, b.timezone) for b in branches]
        if not rows:
            return []
        prefix = _common_prefix([b.path for b in branches])
    else:
        stmt = select(
            Organisation.id, Organisation.domain, Organisation.created_at, Organisation.timezone
        ).where(Organisation.kind == OrgKind.branch.value)
        if root is not None:
            stmt = stmt.where(Organisation.path.startswith(root.path))
        rows = [tuple(r) for r in (await session.execute(stmt.order_by(Organisation.id))).all()]
        prefix = root.path if root is not None else None
    pairs = [(i, d) for i, d, _, _ in rows]
    ids = [i for i, _ in pairs]

    dialect = session.get_bind().dialect.name
    params = {
        "first_day": span.first_day,
        "last_day": span.last_day,
        "first_month": span.first_month,
        "last_month": span.last_month,
    }
    if len(ids) == 1:
        # One branch (every /month): by id (indexed), with statements built once.
        queries = _ONE_BRANCH.get(dialect)
        if queries is None:
            queries = _ONE_BRANCH[dialect] = _fact_queries(
                dialect, lambda col: col == bindparam("org")
            )
        params["org"] = ids[0]
    elif prefix is None:
        queries = _fact_queries(dialect, lambda col: None)
    else:
        # Several: by their common subtree, dropping rows of branches not asked for in
        # Python; a 1,221-element IN list costs more than that.
        under = select(Organisation.id).where(Organisation.path.startswith(prefix))
        queries = _fact_queries(dialect, lambda col: col.in_(under))
    meetings = await session.execute(queries[0], params)
    evidence = await session.execute(queries[1], params)
    featured = await session.execute(queries[2], params)

    by_id: dict[int, BranchFacts] = {
        i: BranchFacts(i, d or "", period, [], {}, {}, {}, {}, [], None, month_open)
        for i, d in pairs
    }
    meeting_rows, evidence_rows = meetings.all(), evidence.all()
    # Tens of thousands of small objects and no cycles: the cyclic collector would only
    # walk them again and again.
    with no_cycle_collection():
        _add_meetings(by_id, meeting_rows)
        grades = _add_counts(by_id, evidence_rows)
    _add_grades(by_id, grades, period, rubric)
    # A featured item a later rubric dropped would make the engine refuse the branch.
    offered = None if rubric is None else {i.key for i in rubric.items if i.part is Part.FEATURED}
    for org_id, key in featured.all():
        facts = by_id.get(org_id)
        if facts is not None and (offered is None or key in offered):
            facts.featured.append(key)
    _set_since(by_id, {i: (created, tz) for i, _, created, tz in rows})
    return [by_id[i] for i in ids]


_ONE_BRANCH: dict[str, tuple] = {}


def _fact_queries(dialect: str, org_filter) -> tuple:
    """Meetings, evidence and featured choices in the span, each filtered by
    `org_filter(org column)` (None: every branch). The span's bounds are parameters."""

    def scoped(stmt, org_col):
        where = org_filter(org_col)
        return stmt if where is None else stmt.where(where)

    # Table columns, not ORM attributes: a Core select skips the ORM's row loading.
    m, e, f = Meeting.__table__.c, Evidence.__table__.c, BranchFeatured.__table__.c
    month = month_of(dialect, m.held_on)
    held_on, in_month = range_column(dialect, m.held_on), range_column(dialect, e.month)
    # Grouped with the month before the kind: rows arrive in the index's (org, date) order.
    meetings = scoped(
        select(
            m.org_id,
            month,
            m.kind,
            func.count(),
            func.sum(case((m.counts, 1), else_=0)),
            func.sum(m.attended),
            func.sum(m.expected),
        )
        .where(held_on >= bindparam("first_day"), held_on <= bindparam("last_day"))
        .group_by(m.org_id, month, m.kind),
        m.org_id,
    )
    # Counts and grades in one pass: a grade row keeps its label, and max(id) says
    # which of a month's grades came last.
    evidence = scoped(
        select(e.org_id, e.month, e.kind, e.key, e.grade, func.sum(e.count), func.max(e.id))
        .where(in_month >= bindparam("first_month"), in_month <= bindparam("last_month"))
        .group_by(e.org_id, e.month, e.kind, e.key, e.grade),
        e.org_id,
    )
    featured = scoped(select(f.org_id, f.item_key).order_by(f.item_key), f.org_id)
    return meetings, evidence, featured


def _set_since(
    by_id: dict[int, BranchFacts], created: dict[int, tuple[datetime | None, str | None]]
) -> None:
    """Each branch is under the scheme from the month it was set up here, or from its
    first record if that is earlier (history brought in from before): months before
    that are never counted as missed (docs/rubric.md)."""
    for org_id, facts in by_id.items():
        at, tz = created.get(org_id, (None, None))
        if at is None:
            continue
        first = _local_month(at, tz)
        for m in facts.meetings:
            month = f"{m.date.year:04d}-{m.date.month:02d}"
            if month < first:
                first = month
        for table in (facts.events, facts.tasks, facts.flags):
            for months in table.values():
                earliest = min(months, default=first)
                if earliest < first:
                    first = earliest
        facts.since = first


def _local_month(at: datetime, tz: str | None) -> str:
    """`YYYY-MM` of `at` where the branch is: a branch set up at 03:00 on the 1st in
    Beijing was set up at 19:00 UTC the day before, and the month before it never
    existed for it."""
    local = _as_utc(at).astimezone(_zone(tz or DEFAULT_TZ))
    return f"{local.year:04d}-{local.month:02d}"


def _as_utc(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TZ)


def _common_prefix(paths: Sequence[str]) -> str | None:
    """The deepest organisation path above all of `paths` (None: the whole tree)."""
    low, high = min(paths), max(paths)
    # Sorted strings: what the smallest and the largest share, all of them share.
    n = 0
    while n < min(len(low), len(high)) and low[n] == high[n]:
        n += 1
    return low[: low.rfind("/", 0, n) + 1] or None


def _add_meetings(by_id: dict[int, BranchFacts], rows: Iterable[tuple]) -> None:
    """n meetings, c of them counting: one fact with the sums, the rest empty and shared."""
    days: dict[str, date] = {}
    empty: dict[tuple[str, date, bool], FactMeeting] = {}
    for org_id, mon, kind, n, counted, attended, expected in rows:
        facts = by_id.get(org_id)
        if facts is None:
            continue
        day = days.get(mon)
        if day is None:
            day = days[mon] = date(*parse_month(mon), 1)
        first_counts = counted > 0
        out = facts.meetings
        out.append(FactMeeting(kind, day, attended or 0, expected or 0, first_counts))
        for flag, more in (
            (True, counted - first_counts),
            (False, n - counted - (not first_counts)),
        ):
            if more > 0:
                shared = empty.get((kind, day, flag))
                if shared is None:
                    shared = empty[kind, day, flag] = FactMeeting(kind, day, 0, 0, flag)
                out.extend([shared] * more)


def _add_counts(by_id: dict[int, BranchFacts], rows: Iterable[tuple]) -> list[tuple]:
    """Fold event/task/flag sums into the facts; returns the grade rows, oldest first."""
    tables = {i: {"event": f.events, "task": f.tasks, "flag": f.flags} for i, f in by_id.items()}
    grades = []
    for org_id, mon, kind, key, grade, n, last_id in rows:
        mine = tables.get(org_id)
        if mine is None:
            continue
        table = mine.get(kind)
        if table is not None:
            months = table.get(key)
            if months is None:
                months = table[key] = {}
            months[mon] = months.get(mon, 0) + n
        elif kind == GRADE and grade is not None:
            grades.append((mon, last_id, org_id, key, grade))
    grades.sort()
    return [(org_id, key, mon, grade) for mon, _, org_id, key, grade in grades]


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
