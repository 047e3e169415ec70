"""“What's my star rating?”: a branch's standing, what is open, and the way to the next star.

The answer combines this month's live checklist (provisional: the month is still
open) with the frozen snapshots of the months before it (proposed by month close,
then confirmed by the superior). One indexed query reads the last months' snapshots.

The gap search ("what it takes for the next star") looks at the next level only, the
one the answer shows (`gap_analysis(..., up_to=1)`): the levels further up were the
searches that took seconds, mostly to prove a level out of reach. Bounded that way it
takes milliseconds on a city's branches (`benchmarks/bench_rating.py`), so the answer
comes complete in one message. Its result depends only on the rubric and the branch's
facts, so it is memoised on exactly those (`_gap_memo`): a write changes the facts,
hence the key, and asking twice without new records costs a lookup.

Refusals: `month.no_branch` — the person belongs to no branch; `access.denied`.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import MeetingNotice, Organisation, PeriodSnapshot
from bot.services import checklist, orgs
from bot.services.checklist import Checklist, ChecklistEntry
from bot.services.errors import ServiceError
from bot.services.members import Principal
from scoring import BranchFacts, FortressRubric, GapResult, gap_analysis
from scoring.model import Part

BONUS = Part.BONUS

HISTORY_MONTHS = 6


@dataclass(frozen=True)
class MonthScore:
    period: str
    score: Decimal
    max_score: Decimal
    star: int
    confirmed: bool


@dataclass(frozen=True)
class StarAnswer:
    branch: Organisation
    checklist: Checklist  # this month, live: provisional
    history: list[MonthScore]  # closed months, oldest first (at most HISTORY_MONTHS)

    @property
    def last(self) -> MonthScore | None:
        """The latest closed month, the one whose star is (or will be) confirmed."""
        return self.history[-1] if self.history else None

    @property
    def score_change(self) -> Decimal | None:
        """This month's provisional score against the last closed month's."""
        return None if self.last is None else self.checklist.score - self.last.score

    @property
    def outstanding(self) -> list[ChecklistEntry]:
        """Required items not yet at full points (bonus items are chances, not duties),
        the soonest due first, then the heaviest."""
        todo = [e for e in self.checklist.entries if not e.done and e.spec.part is not BONUS]
        return sorted(todo, key=lambda e: (e.spec.due, -(e.possible - e.earned), e.spec.key))

    def overdue(self, today: date) -> list[ChecklistEntry]:
        return [e for e in self.outstanding if e.spec.due < today]


def branch_for(principal: Principal, branch: Organisation | None) -> Organisation:
    """The branch asked about: the given one if this person may see it, else their own."""
    if branch is None:
        if principal.branch is None:
            raise ServiceError("month.no_branch")
        return principal.branch
    if not principal.can_see(branch):
        raise ServiceError("access.denied")
    return branch


async def history(
    session: AsyncSession, org_id: int, before: str, months: int = HISTORY_MONTHS
) -> tuple[list[MonthScore], bool]:
    """The branch's closed months before `before`, oldest first, and whether `before`
    itself is closed (one indexed query)."""
    rows = await session.execute(
        select(
            PeriodSnapshot.period,
            PeriodSnapshot.score,
            PeriodSnapshot.max_score,
            PeriodSnapshot.proposed_star,
            PeriodSnapshot.confirmed_star,
        )
        .where(PeriodSnapshot.org_id == org_id, PeriodSnapshot.period <= before)
        .order_by(PeriodSnapshot.period.desc())
        .limit(months + 1)
    )
    out = [
        MonthScore(p, Decimal(s), Decimal(m), c if c is not None else ps, c is not None)
        for p, s, m, ps, c in rows.all()
    ]
    closed = bool(out) and out[0].period == before
    skip = 1 if closed else 0
    return out[skip : skip + months][::-1], closed


_gap_memo: OrderedDict[tuple, GapResult] = OrderedDict()
GAP_MEMO_SIZE = 4096
GAP_LEVELS = 1  # the chat shows the way to the next star, not the ones above it
# Rescorings at most (~0.1 ms each); the hardest branch of the benchmark city needs 59
# (`benchmarks/bench_rating.py`): an answer never waits on a pathological search.
GAP_BUDGET = 1000


def _memo_key(rubric: FortressRubric, facts: BranchFacts) -> tuple:
    return (id(rubric), rubric.version, repr(facts))


def cached_gap(rubric: FortressRubric, facts: BranchFacts) -> GapResult:
    """The way to the next star (`gap_analysis`), remembered for the same rubric and facts."""
    key = _memo_key(rubric, facts)
    found = _gap_memo.get(key)
    if found is not None:
        _gap_memo.move_to_end(key)
        return found
    found = _gap_memo[key] = gap_analysis(rubric, facts, up_to=GAP_LEVELS, budget=GAP_BUDGET)
    if len(_gap_memo) > GAP_MEMO_SIZE:
        _gap_memo.popitem(last=False)
    return found


async def star_answer(
    session: AsyncSession,
    rubric: FortressRubric,
    principal: Principal,
    today: date,
    branch_id: int | None = None,
    *,
    with_gap: bool = True,
) -> StarAnswer:
    """The branch's star answer for the month of `today` (the person's own branch by
    default); `with_gap=False` for callers that show no way to the next star."""
    branch = await orgs.require_org(session, branch_id) if branch_id else None
    branch = branch_for(principal, branch)
    if branch.kind != "branch":
        raise ServiceError("access.denied")
    period = today.strftime("%Y-%m")
    found, closed = await history(session, branch.id, period)
    cl = await checklist.month_checklist(
        session, rubric, branch, period, with_gap=with_gap, with_content=False, closed=closed
    )
    return StarAnswer(branch, cl, found)


async def next_notice(
    session: AsyncSession, principal: Principal, now: datetime
) -> MeetingNotice | None:
    """The branch's next announced meeting that has not started yet."""
    if principal.branch is None:
        raise ServiceError("month.no_branch")
    row = await session.execute(
        select(MeetingNotice)
        .where(MeetingNotice.org_id == principal.branch.id, MeetingNotice.starts_at >= now)
        .order_by(MeetingNotice.starts_at, MeetingNotice.id)
        .limit(1)
    )
    return row.scalars().first()
