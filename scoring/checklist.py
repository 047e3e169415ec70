"""The items a branch answers for in a month: the secretary's checklist."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from scoring.fortress import compile_fortress, featured_items
from scoring.model import EvidenceKind, FortressRubric, Part, RuleKind
from scoring.periods import Period, due_date, period_key


@dataclass(frozen=True, slots=True)
class ItemSpec:
    key: str
    part: Part
    dimension: str
    period: Period
    period_key: str  # "2026-07", "2026-Q3", "2026-H2", "2026"
    due: date  # the last day of the item's period
    points: Decimal  # the most the item can earn
    evidence: EvidenceKind
    evidence_key: str  # meeting kind, or event / task / flag key
    rule: RuleKind


def checklist_items(
    rubric: FortressRubric, domain: str, featured: Sequence[str], period: str
) -> list[ItemSpec]:
    """Common, domain, chosen featured and bonus items that apply in month ``period``.

    Every item's period contains the month, so all of them apply; the due date says
    how long the branch has. Deductions and vetoes are not tasks and are left out.
    """
    plan = compile_fortress(rubric)
    dp = plan.domains[domain]
    out = []
    for ci in (*dp.items, *featured_items(plan, featured), *dp.bonus):
        item = ci.item
        out.append(
            ItemSpec(
                item.key,
                item.part,
                item.dimension,
                item.period,
                period_key(period, item.period),
                due_date(period, item.period),
                ci.max_points,
                item.evidence.kind,
                item.evidence.key,
                item.rule.kind,
            )
        )
    return out
