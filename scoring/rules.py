"""Turning an evidence value into points, one compiled function per rule.

Each function takes the evidence value (a count, a rate as ``Decimal``, a grade label,
or None when there is nothing to measure) and returns points ≥ 0, already rounded.
Deductions also return a positive amount; the caller subtracts it.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from scoring.model import ZERO, Rule, RuleKind, q

Scorer = Callable[[Any], Decimal]


def compile_rule(rule: Rule) -> Scorer:
    return _COMPILERS[rule.kind](rule)


def _done(rule: Rule) -> Scorer:
    points, at_least = rule.points, rule.at_least

    def score(value: Any) -> Decimal:
        return points if value is not None and value >= at_least else ZERO

    return score


def _per_unit(rule: Rule) -> Scorer:
    points, cap = rule.points, rule.max_points
    # Counts are small whole numbers: a table avoids Decimal arithmetic on the hot path.
    table = _count_table(points, cap)

    def score(value: Any) -> Decimal:
        if value is None or value <= 0:
            return ZERO
        if type(value) is int:
            return table[value] if value < len(table) else cap
        return min(cap, q(points * value))

    return score


def _count_table(points: Decimal, cap: Decimal) -> tuple[Decimal, ...]:
    if points <= 0:
        return (ZERO,)
    table = [ZERO]
    while table[-1] < cap:
        table.append(min(cap, q(points * len(table))))
    return tuple(table)


def _deduction(rule: Rule) -> Scorer:
    if not rule.once:
        return _per_unit(rule)
    points, at_least = rule.points, rule.at_least

    def score(value: Any) -> Decimal:  # "dues unpaid for 3 months → −2": once, at 3
        return points if value is not None and value >= at_least else ZERO

    return score


def _proportional(rule: Rule) -> Scorer:
    points, full_at = rule.points, rule.full_at

    def score(value: Any) -> Decimal:
        if value is None or value <= 0:
            return ZERO
        if value >= full_at:
            return points
        return q(points * Decimal(value) / full_at)

    return score


def _ladder(rule: Rule) -> Scorer:
    steps = rule.steps

    def score(value: Any) -> Decimal:
        if value is None:
            return ZERO
        for at_least, points in steps:
            if value >= at_least:
                return points
        return ZERO

    return score


def _by_grade(rule: Rule) -> Scorer:
    table = dict(rule.grades)

    def score(value: Any) -> Decimal:
        return table.get(value, ZERO)

    return score


_COMPILERS: dict[RuleKind, Callable[[Rule], Scorer]] = {
    RuleKind.DONE: _done,
    RuleKind.PER_EVENT: _per_unit,
    RuleKind.DEDUCTION: _deduction,
    RuleKind.PROPORTIONAL: _proportional,
    RuleKind.LADDER: _ladder,
    RuleKind.BY_GRADE: _by_grade,
}


def compile_met(rule: Rule) -> Callable[[Any, Decimal], bool]:
    """``(value, points) → done in full``: at the maximum, and never on no evidence.

    An item worth 0 points is at its maximum whatever happened, so for it the evidence
    decides: the rule's own "done" condition must be reached.
    """
    top = rule.max_points
    if top > 0:
        return lambda value, points: points >= top
    reached = _REACHED[rule.kind](rule)
    return lambda value, points: value is not None and reached(value)


def _reached_done(rule: Rule) -> Callable[[Any], bool]:
    at_least = rule.at_least
    return lambda value: not isinstance(value, str) and value >= at_least


def _reached_any(rule: Rule) -> Callable[[Any], bool]:
    return lambda value: not isinstance(value, str) and value > 0


def _reached_full(rule: Rule) -> Callable[[Any], bool]:
    full_at = rule.full_at
    return lambda value: not isinstance(value, str) and value >= full_at


def _reached_step(rule: Rule) -> Callable[[Any], bool]:
    first = rule.steps[0][0] if rule.steps else ZERO
    return lambda value: not isinstance(value, str) and value >= first


def _reached_grade(rule: Rule) -> Callable[[Any], bool]:
    best = rule.grades[0][0] if rule.grades else None
    return lambda value: value == best


_REACHED: dict[RuleKind, Callable[[Rule], Callable[[Any], bool]]] = {
    RuleKind.DONE: _reached_done,
    RuleKind.PER_EVENT: _reached_any,
    RuleKind.DEDUCTION: _reached_done,
    RuleKind.PROPORTIONAL: _reached_full,
    RuleKind.LADDER: _reached_step,
    RuleKind.BY_GRADE: _reached_grade,
}


def triggered(value: Any, below: Decimal | None, at_least: Decimal | None) -> bool:
    """Whether a condition holds. A missing value is 0 for counts: nothing happened."""
    if value is None:
        value = ZERO
    if isinstance(value, str):
        return False
    if below is not None and value < below:
        return True
    return at_least is not None and value >= at_least
