"""Month close: each branch's result frozen into a snapshot, and the superior's confirmation.

`close_period` is the one heavy operation of the month. For a whole city it runs a
constant number of statements: the facts in five aggregate queries
(`facts.facts_for_branches`), scoring in memory, one SELECT of the snapshots that
already exist, one multi-row INSERT of the new ones, one audit row. It is idempotent:
a branch that already has a snapshot for the period keeps it, and a second close
creates nothing. Stars follow the rubric's default scheme; a quota scheme ranks every
branch in the scope together (those closed earlier included, so shares stay right).

A snapshot's `breakdown` is JSON with numbers as strings (nothing is rounded) and
rows as arrays under a field list, because a city writes 1,221 of them at once:

    {"scheme": "monthly",
     "stars": {"stars": 4, "decided_by": "threshold", "rule": "4", "unmet": [5],
               "rank": null},
     "dimensions": {"org_life": ["17.00", "24"], ...},          # [points, max]
     "item_fields": ["points", "max", "value", "rule", "from", "to"],
     "items": {"committee_meeting": ["4", "4", 1, "done", "2026-07", "2026-07"], ...},
     "pool_fields": ["earned", "cap", "counted"],
     "pools": {"featured": ["6", "10", "6"], "bonus": [...], "deductions": [...]},
     "zeroed": [[key, target, target_key, points_removed], ...],
     "vetoes": [[key, effect, level], ...]}

"items" holds every item, featured, bonus and deduction line (deductions with
negative points); "value" is the evidence value the rule was applied to (a count,
a share as a string, a grade label, or null) and from/to the months it covers. An
item's part, dimension and name are in the rubric of `rubric_version`.

Refusals (`ServiceError` codes and params): `period.malformed(value)`;
`period.not_over(period)` — months close once they are over (in Asia/Shanghai);
`period.not_found` — no such snapshot; `access.denied` — not the superior's staff of
that branch; `period.star_invalid(star)`; `period.reason_required` — a level other than the
proposed one, or any change of a confirmed level;
`period.too_long(max)` — the adjustment reason; `period.already_closed(period)`,
`period.close_changed(period, n)` — a close confirmed for another number of branches
than are open now; `period.nothing_to_confirm(period)`, `period.confirm_changed(period,
n)` — a "confirm all" confirmed for another set of proposals than are waiting now.

Acting on a whole month is confirmed by a second press that names what the staff saw:
closing a month nothing was recorded in (`close_check`: it rates every branch on an
empty month; a new city's month before it existed is the common case) and confirming
all proposed levels (`pending`: every secretary is told). The second press is checked
against the month as it is now, so a stale or repeated one is refused, never applied.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, bindparam, exists, false, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    Evidence,
    Meeting,
    Member,
    MemberStatus,
    Organisation,
    OrgKind,
    PeriodSnapshot,
    Role,
)
from bot.services import audit, versions
from bot.services.errors import ServiceError
from bot.services.facts import DEFAULT_TZ, facts_for_branches
from bot.services.members import Principal
from bot.services.paging import PAGE_SIZE, Page, paginate
from scoring import BranchResult, FortressRubric, StarRating, rate_branches, score_branches
from scoring.batch import no_cycle_collection
from scoring.model import StarMethod
from scoring.periods import parse_month

MAX_REASON = 1000
STARS = range(1, 6)


def month_of_day(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def check_period(period: str) -> str:
    try:
        parse_month(period)
    except (ValueError, TypeError):
        raise ServiceError("period.malformed", value=str(period)) from None
    return period


_SNAPSHOT = select(PeriodSnapshot.id).where(
    PeriodSnapshot.org_id == bindparam("org"), PeriodSnapshot.period == bindparam("period")
)


async def is_closed(session: AsyncSession, org_id: int, period: str) -> bool:
    """Whether the branch's result for month `period` has been frozen."""
    found = await session.execute(_SNAPSHOT, {"org": org_id, "period": period})
    return found.first() is not None


@dataclass(frozen=True)
class CloseSummary:
    created: int
    already_closed: int
    branches: int  # in the scope


def _under(roots: Iterable[Organisation | None]) -> ColumnElement[bool] | None:
    """Organisations under any of `roots`; None when one of them is the whole tree."""
    roots = list(roots)
    if any(r is None for r in roots):
        return None
    if not roots:
        return false()
    return or_(*(Organisation.path.startswith(r.path) for r in roots))


def _plain(value) -> object:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return str(value)


ITEM_FIELDS = ("points", "max", "value", "rule", "from", "to")
POOL_FIELDS = ("earned", "cap", "counted")


def overdue_items(breakdown: dict, period: str, required: frozenset[str]) -> int:
    """Required items (not bonus or deduction lines) whose period ended in `period` with
    nothing earned, from a snapshot's breakdown: left undone, not merely short of full
    points. Counted at close into `PeriodSnapshot.overdue` (the dashboard's list)."""
    fields = breakdown.get("item_fields") or ()
    try:
        points, most, to = fields.index("points"), fields.index("max"), fields.index("to")
    except ValueError:
        return 0
    return sum(
        1
        for key, row in (breakdown.get("items") or {}).items()
        if key in required and row[to] == period and float(row[points]) <= 0 < float(row[most])
    )


def breakdown(result: BranchResult, rating: StarRating) -> dict:
    """Everything the result holds, JSON-safe and compact (see the module docstring)."""
    return {
        "scheme": rating.scheme,
        "stars": {
            "stars": rating.stars,
            "decided_by": rating.decided_by.value,
            "rule": rating.rule,
            "unmet": list(rating.unmet),
            "rank": rating.rank,
        },
        "dimensions": {d.key: [str(d.points), str(d.max_points)] for d in result.dimensions},
        "item_fields": ITEM_FIELDS,
        "items": {
            r.key: [
                str(r.points),
                str(r.max_points),
                _plain(r.value),
                r.rule.value,
                r.window[0],
                r.window[1],
            ]
            for r in result.items
        },
        "pool_fields": POOL_FIELDS,
        "pools": {
            name: [str(pool.earned), str(pool.cap), str(pool.counted)]
            for name, pool in (
                ("featured", result.featured),
                ("bonus", result.bonus),
                ("deductions", result.deductions),
            )
        },
        "zeroed": [
            [z.key, z.target.value, z.target_key, str(z.points_removed)] for z in result.zeroed
        ],
        "vetoes": [[v.key, v.effect.value, v.level] for v in result.vetoes],
    }


async def close_period(
    session: AsyncSession,
    rubric: FortressRubric,
    now: datetime,
    period: str,
    root: Organisation | None = None,
) -> CloseSummary:
    """Freeze month `period` for every branch under `root` (None: the whole tree)."""
    check_period(period)
    if period >= month_of_day(now.astimezone(ZoneInfo(DEFAULT_TZ)).date()):
        raise ServiceError("period.not_over", period=period)
    facts = await facts_for_branches(session, None, period, root, rubric=rubric)
    if not facts:
        return CloseSummary(0, 0, 0)
    stmt = select(PeriodSnapshot.org_id).where(PeriodSnapshot.period == period)
    scope = _under([root])
    if scope is not None:
        stmt = stmt.join(Organisation, Organisation.id == PeriodSnapshot.org_id).where(scope)
    closed = set((await session.execute(stmt)).scalars())
    quota = rubric.schemes[rubric.default_scheme].method is StarMethod.QUOTA
    todo = facts if quota else [f for f in facts if f.branch_id not in closed]
    results = score_branches(rubric, todo)
    ratings = rate_branches(rubric, results) if quota else {r.branch_id: r.stars for r in results}
    required = frozenset(item.key for item in rubric.items)
    with no_cycle_collection():
        rows = [
            {
                "org_id": r.branch_id,
                "period": period,
                "score": r.total,
                "max_score": r.max_points,
                "proposed_star": ratings[r.branch_id].stars,
                "meets_standard": r.meets_standard,
                "rubric_version": rubric.version,
                "breakdown": frozen,
                "overdue": overdue_items(frozen, period, required),
                "created_at": now,
            }
            for r in results
            if r.branch_id not in closed
            for frozen in (breakdown(r, ratings[r.branch_id]),)
        ]
    if rows:
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        # The table, not the entity: a Core INSERT skips the ORM's bulk bookkeeping. A
        # concurrent close of an overlapping scope must not fail the whole batch.
        await session.execute(
            dialect.insert(PeriodSnapshot.__table__).on_conflict_do_nothing(
                index_elements=["org_id", "period"]
            ),
            rows,
        )
        await audit.record(
            session,
            audit.Actor.cli("month close"),
            now,
            "period",
            root.id if root is not None else 0,
            "close",
            {"period": [None, period], "created": [None, len(rows)]},
        )
    return CloseSummary(len(rows), len(closed), len(facts))


def _month_bounds(period: str) -> tuple[date, date]:
    year, mon = parse_month(period)
    nxt = date(year + 1, 1, 1) if mon == 12 else date(year, mon + 1, 1)
    return date(year, mon, 1), nxt


@dataclass(frozen=True)
class CloseCheck:
    """What closing `period` would do in the staff's subtrees."""

    period: str
    to_close: int  # branches without a snapshot for the period yet
    recorded: bool  # any meeting held or evidence recorded in the period, in the scope

    @property
    def needs_confirmation(self) -> bool:
        return self.to_close > 0 and not self.recorded


async def close_check(
    session: AsyncSession, principal: Principal, now: datetime, period: str
) -> CloseCheck:
    """How many branches closing `period` would rate, and whether anything was recorded
    in it (one statement)."""
    check_period(period)
    if period >= month_of_day(now.astimezone(ZoneInfo(DEFAULT_TZ)).date()):
        raise ServiceError("period.not_over", period=period)
    scope = _staff_scope(principal, None)
    in_scope = select(Organisation.id).where(Organisation.kind == OrgKind.branch.value)
    if scope is not None:
        in_scope = in_scope.where(scope)
    first, after = _month_bounds(period)
    m, e = Meeting.__table__.c, Evidence.__table__.c
    met = exists().where(m.org_id.in_(in_scope), m.held_on >= first, m.held_on < after)
    kept = exists().where(e.org_id.in_(in_scope), e.month == period)
    closed = select(PeriodSnapshot.org_id).where(PeriodSnapshot.period == period)
    open_ = (
        select(func.count())
        .select_from(Organisation)
        .where(Organisation.id.in_(in_scope), Organisation.id.not_in(closed))
        .scalar_subquery()
    )
    to_close, recorded = (await session.execute(select(open_, or_(met, kept)))).one()
    return CloseCheck(period, int(to_close), bool(recorded))


@dataclass(frozen=True)
class CloseOutcome:
    check: CloseCheck  # as it was before closing
    closed: bool  # False: an empty month, waiting for the staff's confirmation


async def close_for_staff(
    session: AsyncSession,
    rubric: FortressRubric,
    principal: Principal,
    now: datetime,
    period: str,
    *,
    confirmed: int | None = None,
) -> CloseOutcome:
    """Close `period` in the staff's subtrees (the city for a superuser).

    A month nothing was recorded in is closed only with `confirmed`, the number of
    branches the warning named; without it, nothing is written and the outcome says a
    confirmation is needed. A confirmation that no longer matches is refused."""
    found = await close_check(session, principal, now, period)
    if confirmed is not None:
        if found.to_close == 0:
            raise ServiceError("period.already_closed", period=period)
        if confirmed != found.to_close:
            raise ServiceError("period.close_changed", period=period, n=found.to_close)
    elif found.needs_confirmation:
        return CloseOutcome(found, closed=False)
    roots = [None] if principal.is_superuser else list(principal.staff_orgs)
    for root in roots:
        await close_period(session, rubric, now, period, root=root)
    return CloseOutcome(found, closed=True)


@dataclass(frozen=True)
class Overview:
    """A period across some subtrees: branches per star level and the compliance rate."""

    stars: dict[int, int]
    met: int  # branches meeting the standard
    total: int

    @property
    def compliance(self) -> float:
        return self.met / self.total if self.total else 0.0


async def overview(
    session: AsyncSession, period: str, roots: Iterable[Organisation | None]
) -> Overview:
    """One grouped query over the period's snapshots under `roots` (None: the city)."""
    level = func.coalesce(PeriodSnapshot.confirmed_star, PeriodSnapshot.proposed_star)
    stmt = (
        select(level, PeriodSnapshot.meets_standard, func.count())
        .join(Organisation, Organisation.id == PeriodSnapshot.org_id)
        .where(PeriodSnapshot.period == period)
        .group_by(level, PeriodSnapshot.meets_standard)
    )
    scope = _under(roots)
    if scope is not None:
        stmt = stmt.where(scope)
    stars: dict[int, int] = {}
    met = total = 0
    for star, meets, n in (await session.execute(stmt)).all():
        stars[star] = stars.get(star, 0) + n
        total += n
        met += n if meets else 0
    return Overview(dict(sorted(stars.items(), reverse=True)), met, total)


async def star_distribution(
    session: AsyncSession, period: str, root: Organisation | None = None
) -> dict[int, int]:
    """{stars: branches} for the period, the confirmed level where there is one."""
    level = func.coalesce(PeriodSnapshot.confirmed_star, PeriodSnapshot.proposed_star)
    stmt = (
        select(level, func.count())
        .join(Organisation, Organisation.id == PeriodSnapshot.org_id)
        .where(PeriodSnapshot.period == period)
        .group_by(level)
    )
    scope = _under([root])
    if scope is not None:
        stmt = stmt.where(scope)
    return dict(sorted((await session.execute(stmt)).all(), reverse=True))


def _staff_scope(principal: Principal, root: Organisation | None) -> ColumnElement[bool] | None:
    if root is not None:
        if not principal.can_manage(root):
            raise ServiceError("access.denied")
        return _under([root])
    if principal.is_superuser:
        return None
    if not principal.staff_orgs:
        raise ServiceError("access.denied")
    return _under(principal.staff_orgs)


async def proposals(
    session: AsyncSession,
    principal: Principal,
    period: str,
    page: int = 0,
    root: Organisation | None = None,
    size: int = PAGE_SIZE,
) -> Page[tuple[PeriodSnapshot, Organisation]]:
    """The period's snapshots in the staff's subtree: unconfirmed first, then by branch."""
    stmt = (
        select(PeriodSnapshot)
        .join(Organisation, Organisation.id == PeriodSnapshot.org_id)
        .where(PeriodSnapshot.period == check_period(period))
        .order_by(
            PeriodSnapshot.confirmed_star.is_not(None),
            Organisation.path,
        )
    )
    scope = _staff_scope(principal, root)
    if scope is not None:
        stmt = stmt.where(scope)
    found = await paginate(session, stmt, page, size)
    orgs = await session.execute(
        select(Organisation).where(Organisation.id.in_([s.org_id for s in found.items]))
    )
    by_id = {o.id: o for o in orgs.scalars()}
    return Page([(s, by_id[s.org_id]) for s in found.items], found.page, found.total, found.size)


async def get_snapshot(
    session: AsyncSession, principal: Principal, snapshot_id: int
) -> tuple[PeriodSnapshot, Organisation]:
    snap = await session.get(PeriodSnapshot, snapshot_id)
    if snap is None:
        raise ServiceError("period.not_found")
    org = await session.get(Organisation, snap.org_id)
    if org is None or not principal.can_manage(org):
        raise ServiceError("access.denied")
    return snap, org


CONFIRM_FIELDS = ("confirmed_star", "adjust_reason", "confirmed_by")


async def confirm(
    session: AsyncSession,
    principal: Principal,
    now: datetime,
    snapshot_id: int,
    star: int | None = None,
    reason: str | None = None,
    version: int | None = None,
) -> PeriodSnapshot:
    """Confirm the proposed star, or another one with a reason; confirming again may change
    it, and a change of a confirmed level (back to the proposed one included) needs a reason.

    `version` is the one the decision was shown: if the snapshot changed since, the
    decision is refused (`record.stale`) rather than undoing the other change."""
    snap, _ = await get_snapshot(session, principal, snapshot_id)
    if version is not None:
        snap.version = await versions.claim(
            session, PeriodSnapshot, snap.id, version, by=principal.telegram_id
        )
    else:
        snap.version += 1
    star = snap.proposed_star if star is None else star
    if star not in STARS:
        raise ServiceError("period.star_invalid", star=star)
    reason = " ".join((reason or "").split()) or None
    # Changing a confirmed decision is an adjustment too, even back to the proposed level:
    # undoing the staff's reasoned level without a reason would erase their decision.
    changes_decision = snap.confirmed_star is not None and star != snap.confirmed_star
    if star == snap.proposed_star and not changes_decision:
        reason = None
    elif reason is None:
        raise ServiceError("period.reason_required")
    elif len(reason) > MAX_REASON:
        raise ServiceError("period.too_long", max=MAX_REASON)
    before = audit.snapshot(snap, CONFIRM_FIELDS)
    snap.confirmed_star = star
    snap.adjust_reason = reason
    snap.confirmed_by = principal.telegram_id
    snap.confirmed_at = now
    changes = audit.diff(before, audit.snapshot(snap, CONFIRM_FIELDS))
    await session.flush()
    if changes:
        await audit.record(session, principal.actor, now, "snapshot", snap.id, "confirm", changes)
    return snap


@dataclass(frozen=True)
class Pending:
    """The proposals "confirm all" would confirm: how many, and the newest snapshot id
    among them. Confirmations only remove proposals and a close only adds newer ones,
    so an equal pair is the same set."""

    period: str
    n: int
    last: int
    recorded: bool  # anything recorded in the period, in the scope


def _unconfirmed(period: str, scope: ColumnElement[bool] | None):
    where = [PeriodSnapshot.period == period, PeriodSnapshot.confirmed_star.is_(None)]
    if scope is not None:
        where.append(PeriodSnapshot.org_id.in_(select(Organisation.id).where(scope)))
    return where


async def pending(
    session: AsyncSession, principal: Principal, period: str, root: Organisation | None = None
) -> Pending:
    """What "confirm all" would confirm now, for the confirmation step."""
    scope = _staff_scope(principal, root)
    n, last = (
        await session.execute(
            select(func.count(), func.max(PeriodSnapshot.id)).where(
                *_unconfirmed(check_period(period), scope)
            )
        )
    ).one()
    recorded = True
    if n:
        first, after = _month_bounds(period)
        m, e = Meeting.__table__.c, Evidence.__table__.c
        branches = select(PeriodSnapshot.org_id).where(*_unconfirmed(period, scope))
        recorded = bool(
            await session.scalar(
                select(
                    or_(
                        exists().where(
                            m.org_id.in_(branches), m.held_on >= first, m.held_on < after
                        ),
                        exists().where(e.org_id.in_(branches), e.month == period),
                    )
                )
            )
        )
    return Pending(period, int(n), int(last or 0), recorded)


async def confirm_all(
    session: AsyncSession,
    principal: Principal,
    now: datetime,
    period: str,
    root: Organisation | None = None,
    *,
    seen: tuple[int, int] | None = None,
) -> list[PeriodSnapshot]:
    """Confirm every unconfirmed snapshot of the period in the staff's subtree as proposed.

    `seen` is the (n, last) of the `Pending` the confirmation step showed: if the set
    waiting now is another one, or empty (a second tap), nothing is confirmed. Only
    snapshots up to `last` are taken, so one closed after the step was shown never is.

    One UPDATE … RETURNING both chooses and claims the rows: a snapshot someone else
    confirmed or adjusted meanwhile (or a second "confirm all" at once) is neither
    overwritten nor recorded, told or returned twice."""
    scope = _staff_scope(principal, root)
    if seen is not None:
        now_pending = await pending(session, principal, period, root)
        if now_pending.n == 0:
            raise ServiceError("period.nothing_to_confirm", period=period)
        if (now_pending.n, now_pending.last) != seen:
            raise ServiceError("period.confirm_changed", period=period, n=now_pending.n)
    stmt = (
        update(PeriodSnapshot)
        .where(
            PeriodSnapshot.period == check_period(period),
            PeriodSnapshot.confirmed_star.is_(None),
        )
        .values(
            confirmed_star=PeriodSnapshot.proposed_star,
            adjust_reason=None,
            confirmed_by=principal.telegram_id,
            confirmed_at=now,
            version=PeriodSnapshot.version + 1,
        )
        .returning(PeriodSnapshot.id, PeriodSnapshot.proposed_star)
        .execution_options(synchronize_session=False)
    )
    if scope is not None:
        stmt = stmt.where(PeriodSnapshot.org_id.in_(select(Organisation.id).where(scope)))
    if seen is not None:
        stmt = stmt.where(PeriodSnapshot.id <= seen[1])
    claimed = sorted((await session.execute(stmt)).all())
    if not claimed:
        return []
    ids = [i for i, _ in claimed]
    await audit.record_many(
        session,
        principal.actor,
        now,
        [
            (
                "snapshot",
                i,
                "confirm",
                {"confirmed_star": [None, star], "confirmed_by": [None, principal.telegram_id]},
            )
            for i, star in claimed
        ],
    )
    rows = await session.execute(
        select(PeriodSnapshot)
        .where(PeriodSnapshot.id.in_(ids))
        .order_by(PeriodSnapshot.id)
        .execution_options(populate_existing=True)
    )
    return list(rows.scalars())


async def branch_leaders_to_tell(
    session: AsyncSession, snapshots: Sequence[PeriodSnapshot]
) -> dict[int, list[int]]:
    """{branch id: Telegram ids of its secretary and organising member} (one query)."""
    org_ids = {s.org_id for s in snapshots}
    if not org_ids:
        return {}
    rows = await session.execute(
        select(Member.org_id, Member.telegram_id)
        .where(
            Member.org_id.in_(org_ids),
            Member.role.in_((Role.secretary.value, Role.organiser.value)),
            Member.telegram_id.is_not(None),
            Member.status != MemberStatus.left.value,
        )
        .order_by(Member.org_id, Member.role.desc())
    )
    out: dict[int, list[int]] = {}
    for org_id, telegram_id in rows.all():
        out.setdefault(org_id, []).append(telegram_id)
    return out
