"""The Fortress Index of a branch: items → dimensions → pools → total, with the reasons.

The order of operations, which ``docs/rubric.md`` states too:

1. every applicable item is scored on its window; an item whose period is still open
   and that has not yet earned its full points keeps the credit of the previous period
   ("not yet due" is not "failed");
2. item zeroing clauses, then dimension zeroing clauses, remove points;
3. featured items count up to the featured cap, bonus items up to the bonus cap;
   deductions (to date, never carried) subtract up to the deduction cap;
4. a total zeroing clause sets the total to 0; the total is clamped to [0, maximum];
5. vetoes put the branch at the lowest star level or cap its level.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from scoring.batch import no_cycle_collection
from scoring.evidence import BranchEvidence, Reader, Window, branch_reader, missed_months
from scoring.model import (
    ZERO,
    BranchFacts,
    BranchResult,
    DimensionResult,
    Domain,
    EvidenceKind,
    FortressRubric,
    Item,
    ItemResult,
    Part,
    PoolResult,
    RuleKind,
    StarMethod,
    Veto,
    VetoHit,
    Zeroing,
    ZeroingHit,
    ZeroTarget,
)
from scoring.periods import Period
from scoring.rules import Scorer, compile_met, compile_rule, triggered
from scoring.stars import meets_standard, threshold_rating


@dataclass(frozen=True, slots=True)
class CompiledItem:
    item: Item
    read: Reader
    score: Scorer
    max_points: Decimal
    met: Callable[[Any, Decimal], bool]
    carry: bool  # positive items keep the previous period's credit while theirs is open


@dataclass(frozen=True, slots=True)
class CompiledCondition:
    key: str
    period: Period
    read: Reader
    below: Decimal | None
    at_least: Decimal | None
    clause: Veto | Zeroing

    def holds(self, ev: BranchEvidence) -> bool:
        w = ev.windows[self.period]
        return triggered(self.read(ev, w.first, w.last), self.below, self.at_least)


@dataclass(frozen=True, slots=True)
class DomainPlan:
    items: tuple[CompiledItem, ...]  # common then domain items
    bonus: tuple[CompiledItem, ...]
    deductions: tuple[CompiledItem, ...]
    vetoes: tuple[CompiledCondition, ...]
    zeroing: tuple[CompiledCondition, ...]


@dataclass(frozen=True, slots=True)
class FortressPlan:
    rubric: FortressRubric
    domains: dict[str, DomainPlan]
    featured: dict[str, CompiledItem]
    dimensions: tuple[str, ...]
    # (base, current) → the plan bound to that scored month's windows; see ``month_plan``.
    months: dict[tuple[int, int], MonthPlan] = field(default_factory=dict)


Evaluator = Callable[[BranchEvidence], ItemResult]
Check = Callable[[BranchEvidence], bool]


@dataclass(frozen=True, slots=True)
class DomainMonth:
    items: tuple[Evaluator, ...]
    bonus: tuple[Evaluator, ...]
    deductions: tuple[Evaluator, ...]  # give the final, negative lines
    vetoes: tuple[tuple[Check, CompiledCondition], ...]
    zeroing: tuple[tuple[Check, CompiledCondition], ...]
    max_points: dict[str, Decimal]  # per dimension, of the common and domain items


@dataclass(frozen=True, slots=True)
class MonthPlan:
    """A domain plan with every window resolved: items become ``ev → ItemResult``."""

    domains: dict[str, DomainMonth]
    featured: dict[str, Evaluator]


def _applies(domains: frozenset[str] | None, domain: str) -> bool:
    return domains is None or domain in domains


def _compile_item(item: Item) -> CompiledItem:
    positive = item.part not in (Part.DEDUCTION,)
    return CompiledItem(
        item,
        branch_reader(item.evidence),
        compile_rule(item.rule),
        item.max_points,
        compile_met(item.rule),
        positive,
    )


def _compile_condition(clause: Veto | Zeroing) -> CompiledCondition:
    when = clause.when
    return CompiledCondition(
        clause.key, clause.period, branch_reader(when.evidence), when.below, when.at_least, clause
    )


@lru_cache(maxsize=16)
def compile_fortress(rubric: FortressRubric) -> FortressPlan:
    """Compile once per rubric: readers and scorers are closures, grouped per domain."""
    items = {i.key: _compile_item(i) for i in (*rubric.items, *rubric.bonus, *rubric.deductions)}
    vetoes = [_compile_condition(v) for v in rubric.vetoes]
    zeroing = [_compile_condition(z) for z in rubric.zeroing]
    domains = {}
    for domain in Domain:
        d = domain.value

        def pick(source: Sequence[Any], d: str = d) -> tuple[Any, ...]:
            return tuple(items[i.key] for i in source if _applies(i.domains, d))

        domains[d] = DomainPlan(
            tuple(
                items[i.key]
                for i in rubric.items
                if i.part is not Part.FEATURED and _applies(i.domains, d)
            ),
            pick(rubric.bonus),
            pick(rubric.deductions),
            tuple(c for c in vetoes if _applies(c.clause.domains, d)),
            tuple(c for c in zeroing if _applies(c.clause.domains, d)),
        )
    featured = {i.key: items[i.key] for i in rubric.items if i.part is Part.FEATURED}
    return FortressPlan(rubric, domains, featured, tuple(d.key for d in rubric.dimensions))


def evaluate_item(ci: CompiledItem, ev: BranchEvidence) -> ItemResult:
    w: Window = ev.windows[ci.item.period]
    value = ci.read(ev, w.first, w.last)
    points = ci.score(value)
    window = w.label
    if ci.carry and w.open and points < ci.max_points and w.prev_first >= 0:
        prev_value = ci.read(ev, w.prev_first, w.prev_last)
        prev_points = ci.score(prev_value)
        if prev_points > points:
            points, value, window = prev_points, prev_value, w.prev_label
    item = ci.item
    return ItemResult(
        item.key,
        item.part,
        item.dimension,
        points,
        ci.max_points,
        value,
        item.evidence.kind,
        item.rule.kind,
        window,
        ci.met(value, points),
    )


def featured_items(plan: FortressPlan, featured: Sequence[str]) -> tuple[CompiledItem, ...]:
    unknown = [k for k in featured if k not in plan.featured]
    if unknown:
        raise ValueError(f"unknown featured items: {', '.join(unknown)}")
    return tuple(plan.featured[k] for k in dict.fromkeys(featured))


# The type of value an item's evidence gives, when it comes from our own arithmetic (or
# is a plain label): only such values key the memo below, so that 2 and 2.0, or "A" and
# a str subclass, never share a result.
_VALUE_TYPE: dict[EvidenceKind, type] = {
    EvidenceKind.MEETINGS: int,
    EvidenceKind.MONTHS_WITHOUT: int,
    EvidenceKind.EVENTS: int,
    EvidenceKind.TASK: int,
    EvidenceKind.FLAG: int,
    EvidenceKind.ATTENDANCE: Decimal,
    EvidenceKind.RATIO: Decimal,
    EvidenceKind.GRADE: str,
}
_MEMO_SIZE = 256  # per item and month: bounds memory, while small counts and grades all fit


def _evaluator(ci: CompiledItem, w: Window, deduction: bool = False) -> Evaluator:
    """``evaluate_item`` for one item and one scored month, with the window bound.

    A deduction's evaluator gives its final line: negative points, rule ``deduction``.
    Results are shared between branches whose evidence values are the same (results are
    read-only): a city's month would otherwise create some 40,000 of them.
    """
    item = ci.item
    read, score, top, met = ci.read, ci.score, ci.max_points, ci.met
    key, part, dimension = item.key, item.part, item.dimension
    evidence = item.evidence.kind
    value_type = _VALUE_TYPE[evidence]
    rule = RuleKind.DEDUCTION if deduction else item.rule.kind
    a, b, prev_a, prev_b = w.first, w.last, w.prev_first, w.prev_last
    label, prev_label = w.label, w.prev_label
    carry = ci.carry and w.open and prev_a >= 0
    memo: dict[Any, ItemResult] = {}  # value → result, when the previous period is not read
    carried: dict[tuple[Any, Any], ItemResult] = {}  # (value, previous value) → result

    def result(points: Decimal, value: Any, window: tuple[str, str]) -> ItemResult:
        done = met(value, points)
        if deduction:
            points = -points
        return ItemResult(key, part, dimension, points, top, value, evidence, rule, window, done)

    def evaluate(ev: BranchEvidence) -> ItemResult:
        value = read(ev, a, b)
        cacheable = type(value) is value_type
        if cacheable:
            hit = memo.get(value)
            if hit is not None:
                return hit
        points = score(value)
        if not carry or points >= top:
            out = result(points, value, label)
            if cacheable and len(memo) < _MEMO_SIZE:
                memo[value] = out
            return out
        prev_value = read(ev, prev_a, prev_b)
        cacheable = cacheable and type(prev_value) is value_type
        if cacheable:
            hit = carried.get((value, prev_value))
            if hit is not None:
                return hit
        prev_points = score(prev_value)
        if prev_points > points:
            out = result(prev_points, prev_value, prev_label)
        else:
            out = result(points, value, label)
        if cacheable and len(carried) < _MEMO_SIZE:
            carried[value, prev_value] = out
        return out

    return evaluate


def _check(c: CompiledCondition, w: Window) -> Check:
    read, below, at_least, a, b = c.read, c.below, c.at_least, w.first, w.last
    return lambda ev: triggered(read(ev, a, b), below, at_least)


def month_plan(plan: FortressPlan, ev: BranchEvidence) -> MonthPlan:
    """The plan bound to the scored month of ``ev`` (every branch of a city's month shares it)."""
    found = plan.months.get((ev.base, ev.current))
    if found is not None:
        return found
    windows = ev.windows
    evaluators: dict[tuple[str, bool], Evaluator] = {}

    def ev_of(ci: CompiledItem, deduction: bool = False) -> Evaluator:
        ref = (ci.item.key, deduction)
        if ref not in evaluators:
            evaluators[ref] = _evaluator(ci, windows[ci.item.period], deduction)
        return evaluators[ref]

    domains = {}
    for d, dp in plan.domains.items():
        max_points = dict.fromkeys(plan.dimensions, ZERO)
        for ci in dp.items:
            max_points[ci.item.dimension] += ci.max_points
        domains[d] = DomainMonth(
            tuple(ev_of(ci) for ci in dp.items),
            tuple(ev_of(ci) for ci in dp.bonus),
            tuple(ev_of(ci, deduction=True) for ci in dp.deductions),
            tuple((_check(c, windows[c.period]), c) for c in dp.vetoes),
            tuple((_check(c, windows[c.period]), c) for c in dp.zeroing),
            max_points,
        )
    found = MonthPlan(domains, {k: ev_of(ci) for k, ci in plan.featured.items()})
    if len(plan.months) >= 8:  # scoring years of history month by month: stay bounded
        plan.months.clear()
    plan.months[ev.base, ev.current] = found
    return found


def score_evidence(plan: FortressPlan, facts: BranchFacts, ev: BranchEvidence) -> BranchResult:
    """Score prepared evidence (``score_branch`` and "what if" both come through here)."""
    rubric = plan.rubric
    mp = month_plan(plan, ev)
    dm = mp.domains[facts.domain]
    featured = featured_items(plan, facts.featured) if facts.featured else ()
    main = [evaluate(ev) for evaluate in dm.items]
    if featured:
        main += [mp.featured[ci.item.key](ev) for ci in featured]
    bonus = [evaluate(ev) for evaluate in dm.bonus]
    deduction_lines = [evaluate(ev) for evaluate in dm.deductions]

    hits = [c.clause for check, c in dm.zeroing if check(ev)]
    zeroed: list[ZeroingHit] = []
    dims = dict.fromkeys(plan.dimensions, ZERO)
    featured_earned = ZERO
    if hits:
        gone_items = {z.target_key for z in hits if z.target is ZeroTarget.ITEM}
        gone_dims = {z.target_key for z in hits if z.target is ZeroTarget.DIMENSION}
        for z in hits:
            if z.target is ZeroTarget.ITEM:
                removed = sum((r.points for r in (*main, *bonus) if r.key == z.target_key), ZERO)
                zeroed.append(ZeroingHit(z.key, z.target, z.target_key, removed))
    else:
        gone_items = gone_dims = set()
    max_points = dict(dm.max_points)
    for r in main[len(dm.items) :]:
        max_points[r.dimension] += r.max_points
    if hits:
        for r in main:
            if r.dimension in gone_dims:
                continue
            kept = ZERO if r.key in gone_items else r.points
            dims[r.dimension] += kept
            if r.part is Part.FEATURED:
                featured_earned += kept
    else:  # the usual case, nothing zeroed: the same sums without the checks
        for r in main:
            dims[r.dimension] += r.points
        for r in main[len(dm.items) :]:
            featured_earned += r.points
    for z in hits:
        if z.target is ZeroTarget.DIMENSION:
            removed = sum(
                (r.points for r in main if r.dimension == z.target_key and r.key not in gone_items),
                ZERO,
            )
            zeroed.append(ZeroingHit(z.key, z.target, z.target_key, removed))

    featured_pool = _pool(featured_earned, rubric.featured_cap)
    bonus_pool = _pool(
        sum((r.points for r in bonus if r.key not in gone_items), ZERO), rubric.bonus_cap
    )
    ded_pool = _pool(sum((-r.points for r in deduction_lines), ZERO), rubric.deduction_cap)
    raw = (
        rubric.base_points
        + sum(dims.values(), ZERO)
        - featured_earned
        + featured_pool.counted
        + bonus_pool.counted
        - ded_pool.counted
    )
    total = min(max(raw, ZERO), rubric.max_points)
    for z in hits:
        if z.target is ZeroTarget.TOTAL:
            zeroed.append(ZeroingHit(z.key, z.target, "", total))
            total = ZERO

    vetoes = tuple(
        VetoHit(c.key, c.clause.effect, c.clause.level) for check, c in dm.vetoes if check(ev)
    )
    result = BranchResult(
        facts.branch_id,
        facts.domain,
        facts.period,
        total,
        rubric.max_points,
        tuple(map(DimensionResult, dims, dims.values(), max_points.values())),
        (*main, *bonus, *deduction_lines),
        featured_pool,
        bonus_pool,
        ded_pool,
        tuple(zeroed),
        vetoes,
        None,  # stars, below
        False,  # meets_standard, below
    )
    scheme = rubric.schemes[rubric.default_scheme]
    if scheme.method is StarMethod.THRESHOLD:
        result.stars = threshold_rating(scheme, result)
    result.meets_standard = meets_standard(rubric, result)
    return result


def _pool(earned: Decimal, cap: Decimal) -> PoolResult:
    return PoolResult(earned, cap, min(earned, cap))


def score_branch(rubric: FortressRubric, facts: BranchFacts) -> BranchResult:
    """The Fortress Index of one branch for ``facts.period``, with every reason."""
    plan = compile_fortress(rubric)
    return score_evidence(plan, facts, BranchEvidence(facts, rubric.quorum))


def missed_months_of(rubric: FortressRubric, facts: BranchFacts, item_key: str) -> tuple[str, ...]:
    """The months a ``months_without`` item counted against the branch ("YYYY-MM"), so
    that a deduction can say what it is for; () for any other item."""
    item = rubric.item(item_key)
    if item.evidence.kind is not EvidenceKind.MONTHS_WITHOUT:
        return ()
    ev = BranchEvidence(facts, rubric.quorum)
    w = ev.windows[item.period]
    return missed_months(ev, item.evidence, w.first, w.last)


def score_branches(rubric: FortressRubric, facts: Iterable[BranchFacts]) -> list[BranchResult]:
    """``score_branch`` for many branches (a city's month), in the order given."""
    plan = compile_fortress(rubric)
    quorum = rubric.quorum
    with no_cycle_collection():
        return [score_evidence(plan, f, BranchEvidence(f, quorum)) for f in facts]
