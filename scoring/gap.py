""" "What if" and "what it takes for the next star".

A *change* is a hypothetical fact in the scored month: meetings held, events counted,
a task done, a grade given, a flag raised. ``what_if`` rescores with changes applied.

The gap analysis looks for the cheapest set of changes the branch itself can make this
month (meetings, events, tasks; not grades, flags or deductions already incurred) that
lifts it to each star level above its own. Every evidence source (a meeting kind, an
event key, a task) can be raised by a number of units; one unit costs the rubric's
effort for it. The search is a depth-first branch and bound over the sources:

* an incumbent comes from a greedy pass (best true gain per effort first);
* a branch is cut when its effort reaches the incumbent's, or when even the best
  each remaining source could add cannot reach the level's points. Because each item
  reads one source, these optimistic gains add up and bound the true gain; sources
  that can lift a zeroing clause or a veto are never counted as bounded;
* every candidate is checked by rescoring, so caps, conditions and vetoes are exact.

With fewer than ``NODE_BUDGET`` rescorings (or the caller's ``budget``) the set found
is the cheapest; otherwise the best found is returned with ``optimal=False``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from scoring.evidence import BranchEvidence, quorum_ratios
from scoring.fortress import (
    CompiledItem,
    FortressPlan,
    compile_fortress,
    evaluate_item,
    featured_items,
    score_evidence,
)
from scoring.model import (
    ZERO,
    BranchFacts,
    BranchResult,
    EvidenceKind,
    FortressRubric,
    Part,
    StarLevel,
    StarMethod,
    StarScheme,
    VetoEffect,
)
from scoring.stars import threshold_rating

NODE_BUDGET = 4000
MAX_UNITS = 12  # more than a month's worth of any one thing


class ChangeKind(StrEnum):
    MEETING = "meeting"
    EVENT = "event"
    TASK = "task"
    GRADE = "grade"
    FLAG = "flag"


@dataclass(frozen=True, slots=True)
class Change:
    """A hypothetical fact in the scored month.

    MEETING: ``count`` meetings of kind ``key`` with ``attended``/``expected`` each
    (quorum judged by the rubric). EVENT/TASK/FLAG: ``count`` added to that key (a
    negative count takes away). GRADE: item ``key`` graded ``grade``.
    """

    kind: ChangeKind
    key: str
    count: int = 1
    attended: int = 0
    expected: int = 0
    grade: str = ""


@dataclass(frozen=True, slots=True)
class GapStep:
    change: Change
    effort: int
    points: Decimal  # what this step adds to the total, applying the steps in order
    items: tuple[str, ...]  # items whose points it raises (or deductions it lowers)


@dataclass(frozen=True, slots=True)
class LevelGap:
    stars: int
    min_points: Decimal
    reachable: bool
    blocked_by: str  # a veto key that keeps the branch below this level, or ""
    steps: tuple[GapStep, ...]
    effort: int
    total_after: Decimal
    optimal: bool  # False when the search stopped at its budget
    # An unreachable level not blocked by a veto: the most the branch's own records can
    # bring the total to this month, and the items the superior grades that still have
    # points to give ((key, points still open), most first) when their best grades on
    # top of that would reach the level. Empty: the grades would not be enough either.
    own_best: Decimal | None = None
    graded: tuple[tuple[str, Decimal], ...] = ()


@dataclass(frozen=True, slots=True)
class GapResult:
    branch_id: object
    period: str
    scheme: str
    current: BranchResult
    stars: int
    levels: tuple[LevelGap, ...]  # each level above the current one, lowest first


def apply_changes(ev: BranchEvidence, changes: Iterable[Change], quorum) -> BranchEvidence:
    ev = ev.copy()
    ratios = quorum_ratios(quorum)
    for ch in changes:
        _apply(ev, ch, ratios)
    return ev


def _apply(ev: BranchEvidence, ch: Change, ratios) -> None:
    """``ch`` added to ``ev`` in place (units add up: one unit n times is n units)."""
    if ch.kind is ChangeKind.MEETING:
        month = ev.base + ev.current
        for _ in range(ch.count):
            ev.add_meeting(ch.key, month, ch.attended, ch.expected, None, ratios)
    elif ch.kind is ChangeKind.GRADE:
        ev.grades[ch.key] = ch.grade
    else:
        ev.add_count(
            {"event": "events", "task": "tasks", "flag": "flags"}[ch.kind], ch.key, ch.count
        )


def what_if(rubric: FortressRubric, facts: BranchFacts, changes: Iterable[Change]) -> BranchResult:
    """The branch's result had ``changes`` happened in the scored month."""
    plan = compile_fortress(rubric)
    ev = apply_changes(BranchEvidence(facts, rubric.quorum), changes, rubric.quorum)
    return score_evidence(plan, facts, ev)


# ---------------------------------------------------------------- the search


@dataclass(slots=True)
class _Source:
    kind: ChangeKind
    key: str
    unit: int  # effort of one unit
    items: list[CompiledItem]
    levels: list[int]  # unit counts worth considering (each raises the items' points)
    optimistic: list[Decimal]  # per level: sum of item gains, an upper bound
    unbounded: bool = False  # can lift a zeroing clause or a veto

    @property
    def best_ratio(self) -> Decimal:
        return max(g / (u * self.unit) for g, u in zip(self.optimistic, self.levels, strict=True))

    def change(self, units: int, size: int) -> Change:
        if self.kind is ChangeKind.MEETING:
            return Change(self.kind, self.key, units, size, size)
        return Change(self.kind, self.key, units)


def _source_of(kind: EvidenceKind, key: str) -> tuple[ChangeKind, str] | None:
    if kind in (EvidenceKind.MEETINGS, EvidenceKind.ATTENDANCE, EvidenceKind.MONTHS_WITHOUT):
        return ChangeKind.MEETING, key
    if kind in (EvidenceKind.EVENTS, EvidenceKind.RATIO):
        return ChangeKind.EVENT, key
    if kind is EvidenceKind.TASK:
        return ChangeKind.TASK, key
    return None  # grades and flags are not the branch's to change


class _Search:
    def __init__(
        self,
        rubric: FortressRubric,
        facts: BranchFacts,
        scheme: StarScheme,
        budget: int = NODE_BUDGET,
    ) -> None:
        self.budget = budget
        self.rubric = rubric
        self.facts = facts
        self.scheme = scheme
        self.plan: FortressPlan = compile_fortress(rubric)
        self.base = BranchEvidence(facts, rubric.quorum)
        self.current = score_evidence(self.plan, facts, self.base)
        self.cache: dict[tuple[int, ...], tuple[BranchResult, int]] = {}
        self.sources = self._sources()
        self.evaluations = 0

    def _meeting_size(self, kind: str) -> int:
        rec = self.base.meetings.get(kind)
        return max(max(rec.expected), 1) if rec else 1

    def _sources(self) -> list[_Source]:
        dp = self.plan.domains[self.facts.domain]
        items = (
            *dp.items,
            *featured_items(self.plan, self.facts.featured),
            *dp.bonus,
            *dp.deductions,
        )
        found: dict[tuple[ChangeKind, str], _Source] = {}
        for ci in items:
            ref = _source_of(ci.item.evidence.kind, ci.item.evidence.key)
            if ref is None:
                continue
            if ref not in found:
                unit = self.rubric.effort.of(ref[0].value, ref[1])
                found[ref] = _Source(ref[0], ref[1], unit, [], [], [])
            found[ref].items.append(ci)
        for clause in (*dp.zeroing, *dp.vetoes):
            ref = _source_of(clause.clause.when.evidence.kind, clause.clause.when.evidence.key)
            if ref in found:
                found[ref].unbounded = True
        sources = [s for s in found.values() if self._scan_levels(s)]
        sources.sort(key=lambda s: -s.best_ratio)
        return sources

    def _item_points(self, source: _Source, ev: BranchEvidence) -> tuple[Decimal, int]:
        """Points of the source's items, and how many are done in full: an item worth
        no points that a star level asks for is progress without points."""
        total, met = ZERO, 0
        for ci in source.items:
            r = evaluate_item(ci, ev)
            total += -r.points if ci.item.part.value == "deduction" else r.points
            met += r.met
        return total, met

    def _scan_levels(self, source: _Source) -> bool:
        start_points, best_met = self._item_points(source, self.base)
        best_points = start_points
        # One copy per source, a unit added at a time: the evidence with `units` units
        # (copying it for every count was most of the search's cost).
        ev, one = self.base.copy(), source.change(1, self._meeting_size(source.key))
        ratios = quorum_ratios(self.rubric.quorum)
        for units in range(1, MAX_UNITS + 1):
            _apply(ev, one, ratios)
            points, met = self._item_points(source, ev)
            if points > best_points or (points == best_points and met > best_met):
                best_points, best_met = points, met
                source.levels.append(units)
                source.optimistic.append(points - start_points)
        return bool(source.levels)

    def conditions_possible(self, level: StarLevel) -> bool:
        """Whether the level's extra conditions (featured items done, items in full)
        could hold after some changes: an item can end up done in full only if it is
        met now (perhaps zeroed by a clause a change may lift) or reads a source the
        branch can raise. A necessary condition, so a False is exact."""
        if not level.featured_done and not level.items_full:
            return True
        movable = {ci.item.key for s in self.sources for ci in s.items}
        possible = {r.key for r in self.current.items if r.met} | movable
        featured = sum(
            1 for r in self.current.items if r.part is Part.FEATURED and r.key in possible
        )
        return featured >= level.featured_done and all(k in possible for k in level.items_full)

    def evaluate(self, assignment: tuple[int, ...]) -> tuple[BranchResult, int]:
        """Result and stars with ``assignment[i]`` units of source i (0: untouched)."""
        hit = self.cache.get(assignment)
        if hit is None:
            self.evaluations += 1
            ev = apply_changes(self.base, self.changes(assignment), self.rubric.quorum)
            result = score_evidence(self.plan, self.facts, ev)
            hit = self.cache[assignment] = (result, threshold_rating(self.scheme, result).stars)
        return hit

    def changes(self, assignment: Sequence[int]) -> list[Change]:
        return [
            s.change(units, self._meeting_size(s.key))
            for s, units in zip(self.sources, assignment, strict=True)
            if units
        ]

    def effort(self, assignment: Sequence[int]) -> int:
        return sum(s.unit * u for s, u in zip(self.sources, assignment, strict=True))

    def solve(self, stars: int, min_points: Decimal) -> tuple[tuple[int, ...] | None, bool]:
        n = len(self.sources)
        best = self._greedy(stars)
        best_effort = self.effort(best) if best is not None else None
        # What sources i.. could add at most; None when a clause may be lifted.
        suffix: list[Decimal | None] = [ZERO] * (n + 1)
        for i in range(n - 1, -1, -1):
            s, rest = self.sources[i], suffix[i + 1]
            suffix[i] = None if s.unbounded or rest is None else rest + s.optimistic[-1]
        budget_hit = False

        def least_effort(i: int, needed: Decimal) -> int:
            """A lower bound on the effort sources i.. need to add ``needed`` points: the
            fractional knapsack, each source at its best ratio up to its top gain."""
            if needed <= 0 or suffix[i] is None:
                return 0
            effort = ZERO
            for s in self.sources[i:]:
                top = s.optimistic[-1]
                if top <= 0:  # adds no points (a condition only): no help with ``needed``
                    continue
                if top >= needed:
                    return int(-((-(effort + needed / s.best_ratio)) // 1))
                needed -= top
                effort += top / s.best_ratio
            return 1 << 30

        def dfs(i: int, assignment: list[int], effort: int) -> None:
            nonlocal best, best_effort, budget_hit
            if best_effort is not None and effort >= best_effort:
                return
            if self.evaluations >= self.budget:
                budget_hit = True
                return
            result, got = self.evaluate(tuple(assignment))
            if got >= stars:
                best, best_effort = tuple(assignment), effort
                return
            if i == n:
                return
            bound = suffix[i]
            if bound is not None and result.total + bound < min_points:
                return
            if best_effort is not None:
                if effort + least_effort(i, min_points - result.total) >= best_effort:
                    return
            src = self.sources[i]
            for units in reversed(src.levels):
                assignment[i] = units
                dfs(i + 1, assignment, effort + units * src.unit)
            assignment[i] = 0
            dfs(i + 1, assignment, effort)

        dfs(0, [0] * n, 0)
        return best, not budget_hit

    def _greedy(self, stars: int) -> tuple[int, ...] | None:
        """A first answer for the search to beat. Steps are ranked by the gain of the
        source's own items (known from `_scan_levels`, no rescoring: ranking every step
        by a full rescoring was half of the search's cost); only the steps taken are
        rescored. Caps or clauses may make a step worth less than its items say; the
        search after it is exact either way."""
        assignment = [0] * len(self.sources)
        while True:
            if self.evaluate(tuple(assignment))[1] >= stars:
                return tuple(assignment)
            best_step, best_ratio = None, None
            for i, src in enumerate(self.sources):
                had = assignment[i]
                base = src.optimistic[src.levels.index(had)] if had else ZERO
                for units, gain in zip(src.levels, src.optimistic, strict=True):
                    if units <= had:
                        continue
                    ratio = (gain - base) / ((units - had) * src.unit)
                    if best_ratio is None or ratio > best_ratio:
                        best_step, best_ratio = (i, units), ratio
            if best_step is None or best_ratio is None or best_ratio <= 0:
                return self._greedy_fill(stars)
            assignment[best_step[0]] = best_step[1]

    def _greedy_fill(self, stars: int) -> tuple[int, ...] | None:
        # Points alone were not enough (a condition such as "a featured item done"):
        # try everything at its top level, which is the most the branch can do.
        top = tuple(s.levels[-1] for s in self.sources)
        return top if self.evaluate(top)[1] >= stars else None

    def graded_rest(self, stars: int) -> tuple[Decimal, tuple[tuple[str, Decimal], ...]]:
        """For a level the branch cannot reach by itself: the most its own records bring
        (every source at its top level), and the superior-graded items with points still
        open if their best grades on top of that reach ``stars`` (one rescoring)."""
        top = tuple(s.levels[-1] for s in self.sources)
        own = self.evaluate(top)[0]
        dp = self.plan.domains[self.facts.domain]
        results = {r.key: r for r in own.items}
        open_items, best = [], []
        for ci in (*dp.items, *featured_items(self.plan, self.facts.featured), *dp.bonus):
            item = ci.item
            r = results.get(item.key)
            if item.evidence.kind is not EvidenceKind.GRADE or not item.rule.grades or r is None:
                continue
            if r.points < r.max_points:
                open_items.append((item.key, r.max_points - r.points))
                label = max(item.rule.grades, key=lambda g: g[1])[0]
                best.append(Change(ChangeKind.GRADE, item.evidence.key, grade=label))
        if not open_items:
            return own.total, ()
        ev = apply_changes(self.base, [*self.changes(top), *best], self.rubric.quorum)
        if threshold_rating(self.scheme, score_evidence(self.plan, self.facts, ev)).stars < stars:
            return own.total, ()
        open_items.sort(key=lambda kv: (-kv[1], kv[0]))
        return own.total, tuple(open_items)

    def steps(self, assignment: tuple[int, ...]) -> tuple[GapStep, ...]:
        """The chosen changes, biggest gain first, each with what it adds in that order."""
        chosen = [i for i, u in enumerate(assignment) if u]
        applied = [0] * len(self.sources)
        out: list[GapStep] = []
        while chosen:
            prev = self.evaluate(tuple(applied))[0]

            def gain(i: int, prev: BranchResult = prev) -> Decimal:
                trial = list(applied)
                trial[i] = assignment[i]
                return self.evaluate(tuple(trial))[0].total - prev.total

            i = max(chosen, key=lambda j: (gain(j), -j))
            chosen.remove(i)
            applied[i] = assignment[i]
            after = self.evaluate(tuple(applied))[0]
            src = self.sources[i]
            changed = tuple(
                a.key for a, b in zip(prev.items, after.items, strict=True) if a.points != b.points
            )
            out.append(
                GapStep(
                    src.change(assignment[i], self._meeting_size(src.key)),
                    src.unit * assignment[i],
                    after.total - prev.total,
                    changed,
                )
            )
        return tuple(out)


def gap_analysis(
    rubric: FortressRubric,
    facts: BranchFacts,
    scheme: str | None = None,
    *,
    up_to: int | None = None,
    budget: int = NODE_BUDGET,
) -> GapResult:
    """For each star level above the branch's, the cheapest changes this month that reach it.

    Needs a threshold scheme (the default one unless ``scheme`` names another).
    ``up_to=1`` looks at the next level only (what a chat answer shows): the levels
    further up are the costly searches, and nobody asked about them. ``budget`` bounds
    the rescorings per level (beyond it, the best set found, ``optimal=False``).
    """
    sc = rubric.schemes[scheme or rubric.default_scheme]
    if sc.method is not StarMethod.THRESHOLD:
        raise ValueError(f"gap analysis needs a threshold scheme, not {sc.key!r}")
    search = _Search(rubric, facts, sc, budget)
    current_stars = threshold_rating(sc, search.current).stars
    levels = []
    for level in reversed(sc.levels):
        if level.stars <= current_stars:
            continue
        if up_to is not None and len(levels) >= up_to:
            break
        blocker = _blocking_veto(search.current, sc, level.stars, search)
        if blocker:
            levels.append(
                LevelGap(
                    level.stars, level.min_points, False, blocker, (), 0, search.current.total, True
                )
            )
            continue
        if not search.conditions_possible(level):
            # Points could get there but a condition cannot (say, five stars need a
            # featured item done and the branch has none): no search needed to say so.
            own, graded = search.graded_rest(level.stars)
            levels.append(
                LevelGap(
                    level.stars,
                    level.min_points,
                    False,
                    "",
                    (),
                    0,
                    search.current.total,
                    True,
                    own,
                    graded,
                )
            )
            continue
        found, optimal = search.solve(level.stars, level.min_points)
        if found is None:
            # "Out of reach" would read as final to a new branch whose grades the
            # superior has not given yet: say which grades the level waits on.
            own, graded = search.graded_rest(level.stars)
            levels.append(
                LevelGap(
                    level.stars,
                    level.min_points,
                    False,
                    "",
                    (),
                    0,
                    search.current.total,
                    optimal,
                    own,
                    graded,
                )
            )
            continue
        after = search.evaluate(found)[0]
        levels.append(
            LevelGap(
                level.stars,
                level.min_points,
                True,
                "",
                search.steps(found),
                search.effort(found),
                after.total,
                optimal,
            )
        )
    return GapResult(
        facts.branch_id, facts.period, sc.key, search.current, current_stars, tuple(levels)
    )


def _blocking_veto(result: BranchResult, scheme: StarScheme, stars: int, search: _Search) -> str:
    """A veto the branch cannot lift this month (a flag) that keeps it below ``stars``."""
    dp = search.plan.domains[result.domain]
    liftable = {
        c.key
        for c in dp.vetoes
        if _source_of(c.clause.when.evidence.kind, c.clause.when.evidence.key) is not None
    }
    for veto in result.vetoes:
        level = scheme.lowest if veto.effect is VetoEffect.LOWEST else veto.level
        if level < stars and veto.key not in liftable:
            return veto.key
    return ""
