"""The Vanguard Index of a member, and the grades of a branch's members.

Order of operations for one member:

1. the variant's items are scored and summed per sub-index; zeroing clauses that
   target an item or a sub-index remove its points;
2. the sub-indices are scaled to 0–100 (the ``indices`` part); with the
   self-assessment, the vote (ballots valued by the rubric, averaged) and the branch
   review, each weighted part is rounded to 0.01 and the parts are summed (``basic``);
   a part not given is counted as 0 or left out with the other weights rescaled,
   as the rubric says;
3. total = basic + bonus (capped) − deductions (capped), clamped to 0–100; a total
   zeroing clause makes it 0;
4. the grade is the best whose threshold the total reaches, lowered to the harshest
   hard rule triggered.

Grading a branch then caps the excellent share: see ``grade_branch_members``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

from scoring.evidence import MemberReader, member_reader
from scoring.model import (
    HUNDRED,
    ZERO,
    BranchGrading,
    CapDecision,
    CapMove,
    Condition,
    Grade,
    HardRuleHit,
    Item,
    MemberFacts,
    MemberResult,
    MissingPart,
    Override,
    PoolResult,
    VanguardPart,
    VanguardRubric,
    WeightedPart,
    Zeroing,
    ZeroingHit,
    ZeroTarget,
    q,
)
from scoring.rules import Scorer, compile_rule, triggered


class OverrideError(ValueError):
    """A branch-review override that cannot stand. ``code``: reason_required,
    unknown_member, above_hard_rule or over_cap."""

    def __init__(self, code: str, member_id: Any) -> None:
        self.code = code
        self.member_id = member_id
        super().__init__(f"{code}: {member_id!r}")


@dataclass(frozen=True, slots=True)
class _Line:
    key: str
    group: int  # index of the sub-index; −1 for sheets
    read: MemberReader
    score: Scorer


@dataclass(frozen=True, slots=True)
class _Check:
    key: str
    read: MemberReader
    below: Decimal | None
    at_least: Decimal | None

    def holds(self, facts: MemberFacts) -> bool:
        return triggered(self.read(facts), self.below, self.at_least)


@dataclass(frozen=True, slots=True)
class _VariantPlan:
    lines: tuple[_Line, ...]
    keys: tuple[str, ...]
    bonus: tuple[_Line, ...]
    deductions: tuple[_Line, ...]


@dataclass(frozen=True, slots=True)
class VanguardPlan:
    rubric: VanguardRubric
    variants: dict[str, _VariantPlan]
    groups: tuple[str, ...]
    group_max: tuple[Decimal, ...]
    index_max: Decimal
    zeroing: tuple[tuple[_Check, Zeroing], ...]
    hard_rules: tuple[tuple[_Check, Grade], ...]
    votes: dict[str, Decimal]
    empty_bonus: PoolResult
    empty_deductions: PoolResult


def _check(key: str, when: Condition) -> _Check:
    return _Check(key, member_reader(when.evidence), when.below, when.at_least)


@lru_cache(maxsize=16)
def compile_vanguard(rubric: VanguardRubric) -> VanguardPlan:
    groups = tuple(s.key for s in rubric.subindices)

    def lines(items: Sequence[Item]) -> tuple[_Line, ...]:
        return tuple(
            _Line(
                i.key,
                groups.index(i.dimension) if i.dimension in groups else -1,
                member_reader(i.evidence),
                compile_rule(i.rule),
            )
            for i in items
        )

    variants = {
        cat: _VariantPlan(
            lines(v.items),
            tuple(i.key for i in v.items),
            lines((*rubric.bonus, *v.bonus)),
            lines((*rubric.deductions, *v.deductions)),
        )
        for cat, v in rubric.variants.items()
    }
    group_max = tuple(rubric.subindex_max[g] for g in groups)
    return VanguardPlan(
        rubric,
        variants,
        groups,
        group_max,
        sum(group_max, ZERO),
        tuple((_check(z.key, z.when), z) for z in rubric.zeroing),
        tuple((_check(h.key, h.when), h.max_grade) for h in rubric.hard_rules),
        {o.key: o.value for o in rubric.vote_options},
        PoolResult(ZERO, rubric.bonus_cap, ZERO),
        PoolResult(ZERO, rubric.deduction_cap, ZERO),
    )


def vote_value(plan: VanguardPlan, ballots: Mapping[str, int]) -> Decimal | None:
    """The average value of the ballots cast, 0–100, or None when nobody voted."""
    cast = worth = 0
    for option, count in ballots.items():
        value = plan.votes.get(option)
        if value is None:
            raise ValueError(f"unknown vote option: {option!r}")
        cast += count
        worth += value * count
    return q(Decimal(worth) / cast) if cast else None


def _sheet(lines: tuple[_Line, ...], facts: MemberFacts, empty: PoolResult):
    earned = [(ln.key, p) for ln in lines if (p := ln.score(ln.read(facts)))]
    if not earned:
        return (), empty
    total = sum((p for _, p in earned), ZERO)
    return tuple(earned), PoolResult(total, empty.cap, min(total, empty.cap))


def score_member(rubric: VanguardRubric, facts: MemberFacts) -> MemberResult:
    """The Vanguard Index of one member for ``facts.period``, with every reason."""
    plan = compile_vanguard(rubric)
    vp = plan.variants[facts.category]
    sub = [ZERO] * len(plan.groups)
    points = []
    for ln in vp.lines:
        p = ln.score(ln.read(facts))
        points.append(p)
        sub[ln.group] += p

    zeroed: list[ZeroingHit] = []
    zero_total = False
    for check, clause in plan.zeroing:
        if check.holds(facts):
            removed, zero_total = _apply_zeroing(clause, vp, plan.groups, sub, points, zero_total)
            zeroed.append(ZeroingHit(clause.key, clause.target, clause.target_key, removed))

    indices = q(sum(sub, ZERO) * HUNDRED / plan.index_max)
    parts = _weighted_parts(plan, facts, indices)
    basic = min(sum((p.points for p in parts), ZERO), HUNDRED)
    bonus_items, bonus = _sheet(vp.bonus, facts, plan.empty_bonus)
    ded_items, deductions = _sheet(vp.deductions, facts, plan.empty_deductions)
    total = min(max(basic + bonus.counted - deductions.counted, ZERO), HUNDRED)
    if zero_total:
        total = ZERO

    hard = tuple(HardRuleHit(c.key, g) for c, g in plan.hard_rules if c.holds(facts))
    grade = Grade.UNQUALIFIED
    for g, minimum in rubric.grades:
        if total >= minimum:
            grade = g
            break
    for hit in hard:
        grade = min(grade, hit.max_grade)
    return MemberResult(
        facts.member_id,
        facts.branch_id,
        facts.category,
        facts.period,
        plan.groups,
        tuple(sub),
        plan.group_max,
        vp.keys,
        tuple(points),
        parts,
        basic,
        bonus_items,
        bonus,
        ded_items,
        deductions,
        tuple(zeroed),
        total,
        hard,
        grade,
    )


def _apply_zeroing(
    clause: Zeroing,
    vp: _VariantPlan,
    groups: tuple[str, ...],
    sub: list[Decimal],
    points: list[Decimal],
    zero_total: bool,
):
    if clause.target is ZeroTarget.TOTAL:
        return ZERO, True
    if clause.target is ZeroTarget.DIMENSION:
        g = groups.index(clause.target_key)
        removed, sub[g] = sub[g], ZERO
        return removed, zero_total
    if clause.target_key not in vp.keys:
        return ZERO, zero_total
    i = vp.keys.index(clause.target_key)
    removed, points[i] = points[i], ZERO
    sub[vp.lines[i].group] -= removed
    return removed, zero_total


def _weighted_parts(plan: VanguardPlan, facts: MemberFacts, indices: Decimal):
    values = {
        VanguardPart.INDICES: indices,
        VanguardPart.SELF: _score_0_100(facts.self_score),
        VanguardPart.VOTE: vote_value(plan, facts.ballots),
        VanguardPart.REVIEW: _score_0_100(facts.review_score),
    }
    weights = plan.rubric.weights
    if plan.rubric.missing is MissingPart.REWEIGHT:
        present = sum((w for p, w in weights if values[p] is not None), ZERO)
        scale = (1 / present) if present else ZERO
        weights = tuple((p, w * scale if values[p] is not None else ZERO) for p, w in weights)
    return tuple(WeightedPart(p, values[p], w, q((values[p] or ZERO) * w)) for p, w in weights)


def _score_0_100(value: Decimal | int | None) -> Decimal | None:
    if value is None:
        return None
    return min(max(Decimal(value), ZERO), HUNDRED)


# ---------------------------------------------------------------- a branch's grades


_ROUNDING = {"floor": ROUND_FLOOR, "half_up": ROUND_HALF_UP, "ceil": ROUND_CEILING}


def excellent_places(rubric: VanguardRubric, members: int) -> int:
    """How many members of a branch of this size may be excellent."""
    cap = rubric.excellent_cap
    places = int((cap.share * members).quantize(Decimal(1), rounding=_ROUNDING[cap.rounding]))
    return min(members, max(places, cap.minimum))


def _sort_key(rubric: VanguardRubric, result: MemberResult) -> tuple[Decimal, ...]:
    """Higher is better; a part that is missing ranks below any given value."""
    key = [result.total]
    for name in rubric.excellent_cap.tie_break:
        part = result.part(VanguardPart(name))
        key.append(part.value if part is not None and part.value is not None else Decimal(-1))
    return tuple(key)


def grade_branch_members(
    rubric: VanguardRubric, results: Iterable[MemberResult], overrides: Iterable[Override] = ()
) -> BranchGrading:
    """Final grades of one branch: overrides first, then the excellent cap.

    The branch review may overrule a computed grade with a written reason (看票不唯票),
    but not lift a member above a hard rule, and its "excellent" decisions count against
    the cap. The remaining places go to the members graded excellent by score, ranked by
    total and then the rubric's tie-breaks; members still tied across the last place all
    drop to qualified, so the cap is never exceeded.
    """
    results = list(results)
    by_id = {r.member_id: r for r in results}
    branches = {r.branch_id for r in results}
    if len(branches) > 1:
        raise ValueError("grade_branch_members takes the members of one branch")
    keys = {r.member_id: _sort_key(rubric, r) for r in results}
    ranking = tuple(sorted(by_id, key=lambda m: keys[m], reverse=True))
    rank = _ranks(ranking, keys)
    grades = {r.member_id: r.grade for r in results}
    moves: list[CapDecision] = []

    overridden = set()
    for o in overrides:
        _check_override(o, by_id)
        overridden.add(o.member_id)
        moves.append(
            CapDecision(
                o.member_id,
                grades[o.member_id],
                o.grade,
                CapMove.OVERRIDE,
                rank[o.member_id],
                o.reason.strip(),
            )
        )
        grades[o.member_id] = o.grade
    places = excellent_places(rubric, len(results))
    left = places - sum(1 for m in overridden if grades[m] is Grade.EXCELLENT)
    if left < 0:
        raise OverrideError("over_cap", next(iter(overridden)))

    candidates = [m for m in ranking if m not in overridden and grades[m] is Grade.EXCELLENT]
    over, tied = set(candidates[left:]), set()
    if 0 < left < len(candidates) and keys[candidates[left - 1]] == keys[candidates[left]]:
        tied = {m for m in candidates if keys[m] == keys[candidates[left]]}
    for m in candidates:
        if m in over or m in tied:
            why = CapMove.TIED_AT_BOUNDARY if m in tied else CapMove.OVER_CAP
            moves.append(CapDecision(m, Grade.EXCELLENT, Grade.QUALIFIED, why, rank[m]))
            grades[m] = Grade.QUALIFIED
    branch = next(iter(branches)) if branches else None
    return BranchGrading(branch, grades, places, ranking, tuple(moves))


def _ranks(ranking: tuple[Any, ...], keys: dict[Any, tuple]) -> dict[Any, int]:
    """1-based places; members with equal keys share the better place."""
    out: dict[Any, int] = {}
    for i, m in enumerate(ranking):
        prev = ranking[i - 1] if i else None
        out[m] = out[prev] if prev is not None and keys[prev] == keys[m] else i + 1
    return out


def _check_override(o: Override, by_id: dict[Any, MemberResult]) -> None:
    if not o.reason or not o.reason.strip():
        raise OverrideError("reason_required", o.member_id)
    result = by_id.get(o.member_id)
    if result is None:
        raise OverrideError("unknown_member", o.member_id)
    ceiling = min((h.max_grade for h in result.hard_rules), default=Grade.EXCELLENT)
    if o.grade > ceiling:
        raise OverrideError("above_hard_rule", o.member_id)
