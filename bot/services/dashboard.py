"""The superior's picture of a subtree: stars, compliance, the weak, the advanced, the movers.

Built from month-close snapshots, so a whole city costs a handful of indexed queries
and no scoring: the period's snapshots under the root (with each branch's name and
path), the month before's scores for the movers, the compliance rate per month for
the trend, and the sub-committees one level down for the drill-down. Everything the
lists show is in memory after that, and pages are cut with `paging.page_of`.

"Overdue" means required items whose period ended in the month with nothing earned
(left undone, not merely short of full points): counted at month close into the
snapshot (`periods.overdue_items`), so the dashboard reads no breakdown JSON. Snapshots
closed before that column existed are counted from their breakdown once and
remembered per snapshot (a breakdown never changes after the close).

Refusals: `access.denied` — not the superior's staff of that organisation.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Organisation, OrgKind, PeriodSnapshot
from bot.services import orgs
from bot.services.errors import ServiceError
from bot.services.members import Principal
from bot.services.periods import _under, check_period, month_of_day, overdue_items
from scoring import FortressRubric

TREND_MONTHS = 6
MOVERS = 5


@dataclass(frozen=True, slots=True)
class BranchLine:
    org_id: int
    name: str
    path: str
    star: int
    score: Decimal
    max_score: Decimal
    confirmed: bool
    confirmed_by: int | None
    meets: bool
    change: Decimal | None  # against the month before; None when it had no snapshot
    overdue: int  # items left undone whose period ended in the month


@dataclass(frozen=True, slots=True)
class SubCommittee:
    org: Organisation
    branches: int
    stars: dict[int, int]
    met: int

    @property
    def compliance(self) -> float:
        return self.met / self.branches if self.branches else 0.0


@dataclass(frozen=True)
class Dashboard:
    root: Organisation | None  # None: every organisation the person oversees
    title: str
    period: str
    branches: list[BranchLine]  # ordered by path
    trend: list[tuple[str, float, int]]  # (month, compliance rate, branches), oldest first
    children: list[SubCommittee]

    @property
    def total(self) -> int:
        return len(self.branches)

    @property
    def met(self) -> int:
        return sum(b.meets for b in self.branches)

    @property
    def compliance(self) -> float:
        return self.met / self.total if self.total else 0.0

    @property
    def confirmed(self) -> int:
        return sum(b.confirmed for b in self.branches)

    @property
    def stars(self) -> dict[int, int]:
        out = {n: 0 for n in range(5, 0, -1)}
        for b in self.branches:
            out[b.star] = out.get(b.star, 0) + 1
        return out

    def level(self, star: int) -> list[BranchLine]:
        return sorted((b for b in self.branches if b.star == star), key=lambda b: b.score)

    def rising(self) -> list[BranchLine]:
        up = [b for b in self.branches if b.change is not None and b.change > 0]
        return sorted(up, key=lambda b: (-b.change, b.path))

    def falling(self) -> list[BranchLine]:
        down = [b for b in self.branches if b.change is not None and b.change < 0]
        return sorted(down, key=lambda b: (b.change, b.path))

    def overdue(self) -> list[BranchLine]:
        late = [b for b in self.branches if b.overdue]
        return sorted(late, key=lambda b: (-b.overdue, b.path))


def scope_roots(
    principal: Principal, root: Organisation | None = None
) -> list[Organisation | None]:
    """The subtrees a person oversees (None: the whole tree), or `root` if they may."""
    if root is not None:
        if not principal.can_manage(root):
            raise ServiceError("access.denied")
        return [root]
    if principal.is_superuser:
        return [None]
    if not principal.staff_orgs:
        raise ServiceError("access.denied")
    return list(principal.staff_orgs)


def _month_before(period: str) -> str:
    year, month = int(period[:4]), int(period[5:])
    return f"{year - 1:04d}-12" if month == 1 else f"{year:04d}-{month - 1:02d}"


# Snapshots closed before `PeriodSnapshot.overdue` existed: a breakdown is written once,
# at month close (`periods.close_period` never updates it), so the count worked out from
# it is remembered by the snapshot's identity and the JSON is read only once.
_overdue_memo: OrderedDict[tuple, int] = OrderedDict()
OVERDUE_MEMO_SIZE = 50_000  # a city's snapshots for a few years


async def _overdue_counts(
    session: AsyncSession, rubric: FortressRubric, period: str, keys: list[tuple[int, object]]
) -> dict[tuple[int, object], int]:
    """Overdue items per snapshot (id, created_at): remembered ones, the others read in
    one query."""
    tag = (id(rubric), rubric.version)
    found: dict[tuple[int, object], int] = {}
    missing: dict[int, tuple[int, object]] = {}
    for key in keys:
        hit = _overdue_memo.get((tag, key))
        if hit is None:
            missing[key[0]] = key
        else:
            found[key] = hit
    if missing:
        required = frozenset(item.key for item in rubric.items)
        rows = await session.execute(
            select(PeriodSnapshot.id, PeriodSnapshot.breakdown).where(
                PeriodSnapshot.id.in_(list(missing))
            )
        )
        for sid, breakdown in rows.all():
            key = missing[sid]
            found[key] = _overdue_memo[(tag, key)] = overdue_items(
                breakdown or {}, period, required
            )
        while len(_overdue_memo) > OVERDUE_MEMO_SIZE:
            _overdue_memo.popitem(last=False)
    return found


async def latest_period(
    session: AsyncSession, principal: Principal, today: date, root: Organisation | None = None
) -> str:
    """The latest closed month before this one in the person's scope (last month if none)."""
    current = month_of_day(today)
    stmt = select(func.max(PeriodSnapshot.period)).where(PeriodSnapshot.period < current)
    scope = _under(scope_roots(principal, root))
    if scope is not None:
        stmt = stmt.join(Organisation, Organisation.id == PeriodSnapshot.org_id).where(scope)
    found = (await session.execute(stmt)).scalar_one_or_none()
    return found or _month_before(current)


async def dashboard(
    session: AsyncSession,
    rubric: FortressRubric,
    principal: Principal,
    period: str,
    root_id: int | None = None,
) -> Dashboard:
    """The subtree under `root_id` (the person's own scope by default) for month `period`."""
    check_period(period)
    root = await orgs.require_org(session, root_id) if root_id else None
    roots = scope_roots(principal, root)
    scope = _under(roots)

    def scoped(stmt):
        stmt = stmt.join(Organisation, Organisation.id == PeriodSnapshot.org_id)
        return stmt if scope is None else stmt.where(scope)

    rows = (
        await session.execute(
            scoped(
                select(
                    PeriodSnapshot.org_id,
                    Organisation.name,
                    Organisation.path,
                    PeriodSnapshot.score,
                    PeriodSnapshot.max_score,
                    PeriodSnapshot.proposed_star,
                    PeriodSnapshot.confirmed_star,
                    PeriodSnapshot.confirmed_by,
                    PeriodSnapshot.meets_standard,
                    PeriodSnapshot.overdue,
                    PeriodSnapshot.id,
                    PeriodSnapshot.created_at,
                )
            )
            .where(PeriodSnapshot.period == period)
            .order_by(Organisation.path)
        )
    ).all()
    # Counted at close; snapshots closed before the column existed, from their breakdown.
    legacy = await _overdue_counts(
        session, rubric, period, [(sid, made) for *_, late, sid, made in rows if late is None]
    )
    before = dict(
        (
            await session.execute(
                scoped(select(PeriodSnapshot.org_id, PeriodSnapshot.score)).where(
                    PeriodSnapshot.period == _month_before(period)
                )
            )
        ).all()
    )
    branches = []
    for oid, name, path, score, most, proposed, confirmed, by, meets, late, sid, made in rows:
        score = Decimal(score)
        last = before.get(oid)
        branches.append(
            BranchLine(
                oid,
                name,
                path,
                confirmed if confirmed is not None else proposed,
                score,
                Decimal(most),
                confirmed is not None,
                by,
                bool(meets),
                None if last is None else score - Decimal(last),
                late if late is not None else legacy[(sid, made)],
            )
        )
    return Dashboard(
        root=root,
        title=root.name
        if root is not None
        else roots[0].name
        if len(roots) == 1 and roots[0]
        else "",
        period=period,
        branches=branches,
        trend=await _trend(session, scoped, period),
        children=await _children(session, roots, branches),
    )


async def _trend(session: AsyncSession, scoped, period: str) -> list[tuple[str, float, int]]:
    first = period
    for _ in range(TREND_MONTHS - 1):
        first = _month_before(first)
    rows = await session.execute(
        scoped(
            select(
                PeriodSnapshot.period,
                func.count(),
                func.sum(case((PeriodSnapshot.meets_standard, 1), else_=0)),
            )
        )
        .where(PeriodSnapshot.period.between(first, period))
        .group_by(PeriodSnapshot.period)
        .order_by(PeriodSnapshot.period)
    )
    return [(p, (met or 0) / n if n else 0.0, n) for p, n, met in rows.all()]


async def _children(
    session: AsyncSession, roots: list[Organisation | None], branches: list[BranchLine]
) -> list[SubCommittee]:
    """The committees one level below a single root, each with its branches' figures."""
    if len(roots) != 1:
        # Several staff roots (or the city for a superuser): they are the level to pick from.
        tops = [r for r in roots if r is not None]
        if not tops:
            tops = list(
                (
                    await session.execute(
                        select(Organisation)
                        .where(Organisation.parent_id.is_(None))
                        .order_by(Organisation.path)
                    )
                ).scalars()
            )
        kids = tops
    else:
        parent = roots[0]
        stmt = select(Organisation).where(Organisation.kind == OrgKind.committee.value)
        if parent is None:
            stmt = stmt.where(Organisation.parent_id.is_(None))
        else:
            stmt = stmt.where(Organisation.parent_id == parent.id)
        kids = list((await session.execute(stmt.order_by(Organisation.path))).scalars())
        if parent is None and len(kids) == 1:
            # A city is one committee at the top: show the level below it.
            only = kids[0]
            kids = list(
                (
                    await session.execute(
                        select(Organisation)
                        .where(
                            Organisation.parent_id == only.id,
                            Organisation.kind == OrgKind.committee.value,
                        )
                        .order_by(Organisation.path)
                    )
                ).scalars()
            )
    out = []
    for kid in kids:
        mine = [b for b in branches if b.path.startswith(kid.path)]
        stars: dict[int, int] = {}
        for b in mine:
            stars[b.star] = stars.get(b.star, 0) + 1
        out.append(SubCommittee(kid, len(mine), stars, sum(b.meets for b in mine)))
    return out
