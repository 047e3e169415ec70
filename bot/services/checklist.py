"""The secretary's checklist for a month: every item due, what it earns, what is left.

`star` is the default scheme's level when it rates by thresholds; with a quota scheme
a branch's level depends on every other branch, so `star` is 0 until month close
(the snapshot's proposed star) and `gap` is None.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Organisation
from bot.services.content import content_for
from bot.services.facts import branch_facts, facts_tokens
from bot.services.orgs import ancestor_ids
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


@dataclass(frozen=True, slots=True)
class ContentLine:
    """One piece of the month's education material, as the checklist shows it."""

    id: int
    kind: str
    title: str
    url: str | None
    file_id: str | None


@dataclass(frozen=True)
class Checklist:
    branch: Organisation
    period: str
    entries: list[ChecklistEntry]  # shared by the calls that reuse one computation: read only
    done: int
    total: int
    score: Decimal
    max_score: Decimal
    star: int  # 0: the default scheme rates by quota, decided at month close
    meets_standard: bool
    result: BranchResult
    gap: GapResult | None  # what it takes for each higher star; None with a quota scheme
    content: list[ContentLine]
    closed: bool  # the month has been closed (a snapshot exists)
    deductions: list[Deduction]  # every deduction applied, with its reason
    # What this checklist was drawn from (None: not remembered): two checklists of the
    # same branch with the same basis, asked for with the same options, are equal.
    basis: object = field(default=None, compare=False, repr=False)

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


@dataclass(slots=True)
class _Known:
    """A branch's month as computed under `stamp`; gap and content are added when first
    asked for (each from data no older than the stamp: it is checked before they are read)."""

    rubric: FortressRubric
    stamp: tuple
    facts: BranchFacts
    sheet: Checklist  # without branch, gap and content: those are filled in per call
    gap: GapResult | None = None
    has_gap: bool = False
    content: tuple[ContentLine, ...] | None = None


# (branch id, period) -> what was computed for it. A city has 1,221 branches.
_known: OrderedDict[tuple[int, str], _Known] = OrderedDict()
KNOWN_SIZE = 4096


def forget_all() -> None:
    """Drop every remembered checklist (never needed for correctness: the stamps decide)."""
    _known.clear()


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
    search (by default the one remembered per rubric and facts, `ratings.cached_gap`);
    `with_content=False` leaves out the month's education material (the star answer
    does not show it) and `closed`, when the caller knows it, saves asking.

    What is computed is remembered per branch and month under a stamp: the facts tokens
    of the branch and of its ancestors (replaced by a database trigger in the same
    statement as every write to the facts, the snapshots or the content they offer:
    migration 0012), the branch's place, domain and start, and the rubric. Each call
    reads the tokens first (one indexed query) and reuses the result only when the stamp
    is unchanged; the facts are read after the tokens, so what is filed under a stamp
    is never older than it. Another worker's write changes the token it reads too."""
    default_gap = gap is None
    if gap is None:
        from bot.services.ratings import cached_gap as gap  # ratings imports this module
    stamp = (
        await facts_tokens(session, ancestor_ids(branch)),
        branch.path,
        branch.domain,
        branch.created_at,
        branch.timezone,  # the start's month is the branch's own
    )
    key = (branch.id, period)
    known = _known.get(key)
    if (
        known is None
        or known.rubric is not rubric
        or known.stamp != stamp
        or (closed is not None and closed != known.sheet.closed)
    ):
        known = await _compute(session, rubric, branch, period, closed, stamp)
        if closed is None:  # a caller's `closed` is its word, not something read here
            _known[key] = known
            if len(_known) > KNOWN_SIZE:
                _known.popitem(last=False)
    else:
        _known.move_to_end(key)
    sheet = known.sheet
    threshold = rubric.schemes[rubric.default_scheme].method is StarMethod.THRESHOLD
    found = None
    if threshold and with_gap:
        if not default_gap:
            found = gap(rubric, known.facts)
        elif known.has_gap:
            found = known.gap
        else:
            found = known.gap = gap(rubric, known.facts)
            known.has_gap = True
    content: list = []
    if with_content:
        if known.content is None:
            known.content = tuple(
                ContentLine(c.id, c.kind, c.title, c.url, c.file_id)
                for c in await content_for(session, branch, period)
            )
        content = list(known.content)
    basis = known if default_gap and _known.get(key) is known else None
    return replace(sheet, branch=branch, gap=found, content=content, basis=basis)


async def _compute(
    session: AsyncSession,
    rubric: FortressRubric,
    branch: Organisation,
    period: str,
    closed: bool | None,
    stamp: tuple,
) -> _Known:
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
    sheet = Checklist(
        branch=None,  # type: ignore[arg-type]  # each call's own; no ORM object is kept
        period=period,
        entries=entries,
        done=sum(e.done for e in entries),
        total=len(entries),
        score=result.total,
        max_score=result.max_points,
        star=result.stars.stars if result.stars is not None else 0,
        meets_standard=result.meets_standard,
        result=result,
        gap=None,
        content=[],
        closed=closed,
        deductions=_deductions(rubric, facts, result),
    )
    return _Known(rubric, stamp, facts, sheet)


def compare(before: Checklist, after: Checklist) -> ChecklistChange:
    """What a save changed, for the reply."""
    was_done = {e.spec.key for e in before.entries if e.done}
    return ChecklistChange(
        newly_done=[e for e in after.entries if e.done and e.spec.key not in was_done],
        score_delta=after.score - before.score,
        star_before=before.star,
        star_after=after.star,
    )
