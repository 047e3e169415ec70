"""The secretary's checklist for a month: every item due, what it earns, what is left.

`star` is the default scheme's level when it rates by thresholds; with a quota scheme
a branch's level depends on every other branch, so `star` is 0 until month close
(the snapshot's proposed star) and `gap` is None.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import EducationContent, Organisation
from bot.services.content import content_for
from bot.services.facts import branch_facts
from bot.services.periods import is_closed
from scoring import (
    BranchFacts,
    BranchResult,
    FortressRubric,
    GapResult,
    ItemSpec,
    checklist_items,
    missed_months_of,
    score_branch,
)
from scoring.model import EvidenceKind, Part, StarMethod

Recordable = Literal["leader", "staff", "meeting"]
MEETING_EVIDENCE = frozenset(
    {EvidenceKind.MEETINGS, EvidenceKind.ATTENDANCE, EvidenceKind.MONTHS_WITHOUT}
)


def recordable_by(evidence: EvidenceKind) -> Recordable:
    """Meetings come through the meeting log; grades are the superior's; the rest, leaders'."""
    if evidence in MEETING_EVIDENCE:
        return "meeting"
    if evidence is EvidenceKind.GRADE:
        return "staff"
    return "leader"


@dataclass(frozen=True)
class ChecklistEntry:
    spec: ItemSpec
    earned: Decimal
    possible: Decimal
    done: bool  # full points
    name_zh: str
    name_en: str
    recordable_by: Recordable

    @property
    def evidence_kind(self) -> EvidenceKind:
        return self.spec.evidence

    @property
    def evidence_key(self) -> str:
        return self.spec.evidence_key

    @property
    def key(self) -> str:
        return self.spec.key


@dataclass(frozen=True)
class Deduction:
    """A deduction the month's score carries, and what it is for."""

    key: str
    points: Decimal  # negative
    name_zh: str
    name_en: str
    months: tuple[str, ...]  # the months missed, for "months without …" items


def _deductions(rubric: FortressRubric, facts, result: BranchResult) -> list[Deduction]:
    out = []
    for r in result.items:
        if r.part is not Part.DEDUCTION or not r.points:
            continue
        item = rubric.item(r.key)
        months = missed_months_of(rubric, facts, r.key)
        out.append(Deduction(r.key, r.points, item.name_zh, item.name_en, months))
    return out


@dataclass(frozen=True)
class Checklist:
    branch: Organisation
    period: str
    entries: list[ChecklistEntry]
    done: int
    total: int
    score: Decimal
    max_score: Decimal
    star: int  # 0: the default scheme rates by quota, decided at month close
    meets_standard: bool
    result: BranchResult
    gap: GapResult | None  # what it takes for each higher star; None with a quota scheme
    content: list[EducationContent]
    closed: bool  # the month has been closed (a snapshot exists)
    deductions: list[Deduction]  # every deduction applied, with its reason

    def entry(self, key: str) -> ChecklistEntry:
        for entry in self.entries:
            if entry.spec.key == key:
                return entry
        raise KeyError(key)


@dataclass(frozen=True)
class ChecklistChange:
    newly_done: list[ChecklistEntry]
    score_delta: Decimal
    star_before: int
    star_after: int


async def month_checklist(
    session: AsyncSession,
    rubric: FortressRubric,
    branch: Organisation,
    period: str,
    *,
    with_gap: bool = True,
    gap: Callable[[FortressRubric, BranchFacts], GapResult | None] | None = None,
    with_content: bool = True,
    closed: bool | None = None,
) -> Checklist:
    """The branch's checklist for `period`; `with_gap=False` skips the (costly) search for
    what the next star takes, for callers that only report progress; `gap` replaces the
    search (by default the one remembered per rubric and facts, `ratings.cached_gap`:
    `/month` asks it on every view, and a write changes the facts, hence the key);
    `with_content=False` leaves out the month's education material (the star answer
    does not show it) and `closed`, when the caller knows it, saves asking."""
    if gap is None:
        from bot.services.ratings import cached_gap as gap  # ratings imports this module
    if closed is None:
        closed = await is_closed(session, branch.id, period)
    # Until the month is closed it is in progress: it cannot have been missed yet.
    facts = await branch_facts(session, branch, period, rubric=rubric, month_open=not closed)
    result = score_branch(rubric, facts)
    points = {r.key: r for r in result.items}
    entries = []
    for spec in checklist_items(rubric, facts.domain, facts.featured, period):
        item = rubric.item(spec.key)
        earned = points[spec.key].points
        entries.append(
            ChecklistEntry(
                spec,
                earned,
                spec.points,
                earned >= spec.points,
                item.name_zh,
                item.name_en,
                recordable_by(spec.evidence),
            )
        )
    threshold = rubric.schemes[rubric.default_scheme].method is StarMethod.THRESHOLD
    found = gap(rubric, facts) if threshold and with_gap else None
    return Checklist(
        branch=branch,
        period=period,
        entries=entries,
        done=sum(e.done for e in entries),
        total=len(entries),
        score=result.total,
        max_score=result.max_points,
        star=result.stars.stars if result.stars is not None else 0,
        meets_standard=result.meets_standard,
        result=result,
        gap=found,
        content=await content_for(session, branch, period) if with_content else [],
        closed=closed,
        deductions=_deductions(rubric, facts, result),
    )


def compare(before: Checklist, after: Checklist) -> ChecklistChange:
    """What a save changed, for the reply."""
    was_done = {e.spec.key for e in before.entries if e.done}
    return ChecklistChange(
        newly_done=[e for e in after.entries if e.done and e.spec.key not in was_done],
        score_delta=after.score - before.score,
        star_before=before.star,
        star_after=after.star,
    )
