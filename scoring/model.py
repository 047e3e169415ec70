"""The data the engine works on: enums, the rubric model, facts, and results.

Numbers are ``Decimal`` everywhere. Every item's points are rounded to 0.01 with
ROUND_HALF_UP as soon as they are computed (``q``); sums of rounded values are exact,
so a branch with exactly 90.00 points is never rated as 89.999….
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import IntEnum, StrEnum
from typing import Any

from scoring.periods import Period

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)
CENT = Decimal("0.01")


def q(value: Decimal) -> Decimal:
    """Round points to hundredths, halves away from zero (the rounding people expect)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------- vocabulary


class Domain(StrEnum):
    VILLAGE = "village"
    COMMUNITY = "community"
    AGENCY = "agency"
    TWO_NEW = "two_new"


class MeetingKind(StrEnum):
    COMMITTEE = "committee"
    GROUP = "group"
    GENERAL = "general"
    LESSON = "lesson"
    THEME_DAY = "theme_day"
    ORG_LIFE = "org_life"
    OTHER = "other"


class MemberCategory(StrEnum):
    RURAL_COMMUNITY = "rural_community"
    AGENCY = "agency"
    TWO_NEW = "two_new"
    MOBILE = "mobile"


class Grade(IntEnum):
    """Member grades; a larger value is a better grade so ``min``/``max`` order them."""

    UNQUALIFIED = 0
    BASICALLY_QUALIFIED = 1
    QUALIFIED = 2
    EXCELLENT = 3

    @property
    def key(self) -> str:
        return self.name.lower()

    @classmethod
    def from_key(cls, key: str) -> Grade:
        return cls[key.upper()]


class EvidenceKind(StrEnum):
    MEETINGS = "meetings"  # counted meetings of a kind in the window
    ATTENDANCE = "attendance"  # attended / expected over meetings of a kind
    MONTHS_WITHOUT = "months_without"  # months in the window with no counted meeting
    EVENTS = "events"  # sum of an event count
    RATIO = "ratio"  # sum of one event count / sum of another
    TASK = "task"  # a task marked done (1) or not (0)
    GRADE = "grade"  # a grade label given by the superior (or the branch) for the item
    FLAG = "flag"  # how many times a flag was raised


class RuleKind(StrEnum):
    DONE = "done"
    PER_EVENT = "per_event"
    PROPORTIONAL = "proportional"
    LADDER = "ladder"
    BY_GRADE = "by_grade"
    DEDUCTION = "deduction"


class Part(StrEnum):
    COMMON = "common"
    DOMAIN = "domain"
    FEATURED = "featured"
    BONUS = "bonus"
    DEDUCTION = "deduction"
    VARIANT = "variant"  # a Vanguard item from the member category's variant


class VetoEffect(StrEnum):
    LOWEST = "lowest"
    CAP = "cap"


class ZeroTarget(StrEnum):
    TOTAL = "total"
    DIMENSION = "dimension"  # a dimension of the Fortress Index or a sub-index of the Vanguard
    ITEM = "item"


class StarMethod(StrEnum):
    THRESHOLD = "threshold"
    QUOTA = "quota"


class TieRule(StrEnum):
    HIGHER = "higher"  # a tied group that straddles a boundary all get the higher level
    LOWER = "lower"  # … all get the lower level


class DecidedBy(StrEnum):
    THRESHOLD = "threshold"
    QUOTA = "quota"
    VETO = "veto"


class VanguardPart(StrEnum):
    INDICES = "indices"  # the four sub-indices, scored from facts, scaled to 0–100
    SELF = "self"  # self-assessment, 0–100
    VOTE = "vote"  # democratic evaluation: ballots valued by the rubric, 0–100
    REVIEW = "review"  # branch review, 0–100


class MissingPart(StrEnum):
    ZERO = "zero"  # a missing part counts 0
    REWEIGHT = "reweight"  # a missing part is left out and the other weights rescaled


class CapMove(StrEnum):
    OVER_CAP = "over_cap"  # ranked below the last excellent place
    TIED_AT_BOUNDARY = "tied_at_boundary"  # tied with others across the last place
    OVERRIDE = "override"  # the branch review set the grade, with a reason


# ---------------------------------------------------------------- rubric model


@dataclass(frozen=True, slots=True)
class Evidence:
    kind: EvidenceKind
    key: str  # meeting kind, or event / task / flag key, or the item key for grades
    den: str = ""  # RATIO: the denominator's event key
    quorum_only: bool = True  # MEETINGS / MONTHS_WITHOUT: only meetings that counted


@dataclass(frozen=True, slots=True)
class Rule:
    kind: RuleKind
    points: Decimal = ZERO  # DONE/PROPORTIONAL: full points; PER_EVENT/DEDUCTION: per unit
    cap: Decimal | None = None  # PER_EVENT / DEDUCTION: most points per period
    at_least: Decimal = ONE  # DONE: the evidence value that counts as done
    full_at: Decimal = ONE  # PROPORTIONAL: the value that earns full points
    steps: tuple[tuple[Decimal, Decimal], ...] = ()  # LADDER: (at least, points), best first
    grades: tuple[tuple[str, Decimal], ...] = ()  # BY_GRADE: (grade label, points)
    once: bool = False  # DEDUCTION: ``points`` once the value reaches ``at_least``

    @property
    def max_points(self) -> Decimal:
        if self.kind in (RuleKind.PER_EVENT, RuleKind.DEDUCTION):
            return self.cap if self.cap is not None else self.points
        if self.kind is RuleKind.LADDER:
            return max(p for _, p in self.steps)
        if self.kind is RuleKind.BY_GRADE:
            return max(p for _, p in self.grades)
        return self.points


@dataclass(frozen=True, slots=True)
class Condition:
    """Triggered when the evidence value is below ``below`` or at least ``at_least``."""

    evidence: Evidence
    below: Decimal | None = None
    at_least: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Item:
    key: str
    name_zh: str
    name_en: str
    part: Part
    dimension: str  # Fortress: a dimension key; Vanguard: a sub-index key; "" for sheets
    period: Period
    evidence: Evidence
    rule: Rule
    domains: frozenset[str] | None = None  # None: every domain
    source: str = ""

    @property
    def max_points(self) -> Decimal:
        return self.rule.max_points


@dataclass(frozen=True, slots=True)
class Veto:
    key: str
    name_zh: str
    name_en: str
    period: Period
    when: Condition
    effect: VetoEffect
    level: int = 1  # CAP: the best star level the branch can get
    domains: frozenset[str] | None = None
    source: str = ""


@dataclass(frozen=True, slots=True)
class Zeroing:
    key: str
    name_zh: str
    name_en: str
    period: Period
    when: Condition
    target: ZeroTarget
    target_key: str = ""  # the dimension / sub-index / item zeroed
    domains: frozenset[str] | None = None
    source: str = ""


@dataclass(frozen=True, slots=True)
class Named:
    key: str
    name_zh: str
    name_en: str


@dataclass(frozen=True, slots=True)
class StarLevel:
    stars: int
    name_zh: str
    name_en: str
    min_points: Decimal = ZERO  # THRESHOLD schemes
    featured_done: int = 0  # also needs this many of the branch's featured items at full points
    items_full: tuple[str, ...] = ()  # also needs these items at full points
    no_veto: bool = False  # also needs no veto at all (whatever the veto's own effect)
    share: Decimal | None = None  # QUOTA: this level's share; None: a threshold level


@dataclass(frozen=True, slots=True)
class StarScheme:
    key: str
    name_zh: str
    name_en: str
    method: StarMethod
    period: Period
    levels: tuple[StarLevel, ...]  # best first
    shares: tuple[tuple[int, Decimal], ...] = ()  # QUOTA: (stars, share), best first
    ties: TieRule = TieRule.LOWER

    @property
    def lowest(self) -> int:
        return self.levels[-1].stars


@dataclass(frozen=True, slots=True)
class Compliance:
    """ "Meets the standard": enough points, no veto, and (optionally) enough stars."""

    min_points: Decimal
    min_stars: int = 0
    veto_fails: bool = True


@dataclass(frozen=True, slots=True)
class Effort:
    """How much work one more unit of evidence costs, for the gap analysis."""

    default: int = 1
    meetings: Mapping[str, int] = field(default_factory=dict)
    events: Mapping[str, int] = field(default_factory=dict)
    tasks: Mapping[str, int] = field(default_factory=dict)

    def of(self, kind: str, key: str) -> int:
        table = {"meeting": self.meetings, "event": self.events, "task": self.tasks}[kind]
        return table.get(key, self.default)


@dataclass(frozen=True, slots=True)
class HardRule:
    key: str
    name_zh: str
    name_en: str
    when: Condition
    max_grade: Grade


@dataclass(frozen=True, slots=True)
class ExcellentCap:
    share: Decimal
    rounding: str = "floor"  # floor | half_up | ceil, of members × share
    minimum: int = 0  # at least this many places, when the branch has that many members
    tie_break: tuple[str, ...] = ()  # vote | review | self | indices, tried in order


@dataclass(frozen=True, slots=True)
class Variant:
    category: str
    name_zh: str
    name_en: str
    items: tuple[Item, ...]  # sub-index items
    bonus: tuple[Item, ...] = ()  # added to the common bonus items for this category
    deductions: tuple[Item, ...] = ()  # added to the common deduction sheet


# ---------------------------------------------------------------- facts


@dataclass(slots=True)
class Meeting:
    """One meeting. ``counts`` None: the rubric's quorum rule decides from attendance."""

    kind: str
    date: date
    attended: int = 0
    expected: int = 0
    counts: bool | None = None


@dataclass(slots=True)
class BranchFacts:
    """What happened in a branch, up to the end of ``period`` (a ``YYYY-MM`` month).

    Give at least the months of the longest item period (normally the year so far).
    ``events``, ``tasks`` and ``flags`` map a key to ``{month: count}`` — exactly what
    ``GROUP BY key, month`` returns. A task counts as done in a month when its count is
    at least 1. ``grades`` maps an item key to the grade label the superior gave for the
    item's current period. ``featured`` are the keys of the featured ("X") items the
    branch has chosen.

    A month can only be *missed* (``months_without``) while the branch was under the
    scheme and once it is over: ``since`` is the first month the branch was under the
    scheme (None: always), and ``month_open`` says ``period`` itself is still in
    progress. Meetings held in any month still count.
    """

    branch_id: Any
    domain: str
    period: str
    meetings: Sequence[Meeting] = ()
    events: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    tasks: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    flags: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    grades: Mapping[str, str] = field(default_factory=dict)
    featured: Sequence[str] = ()
    since: str | None = None
    month_open: bool = False


@dataclass(slots=True)
class MemberFacts:
    """What one member did in the evaluation period (``period`` is a label, e.g. "2026").

    ``events``/``tasks``/``flags`` are totals for the period. ``self_score`` and
    ``review_score`` are 0–100 (None: not given yet). ``ballots`` counts the votes cast
    for each option of the democratic evaluation (keys are the rubric's vote options).
    """

    member_id: Any
    branch_id: Any
    category: str
    period: str
    events: Mapping[str, int] = field(default_factory=dict)
    tasks: Mapping[str, int] = field(default_factory=dict)
    flags: Mapping[str, int] = field(default_factory=dict)
    grades: Mapping[str, str] = field(default_factory=dict)
    self_score: Decimal | int | None = None
    review_score: Decimal | int | None = None
    ballots: Mapping[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------- results
#
# Results are plain slotted dataclasses, not frozen ones: a city makes hundreds of
# thousands of them and a frozen dataclass costs five times as much to create. Treat
# them as read-only.


@dataclass(slots=True)
class ItemResult:
    key: str
    part: Part
    dimension: str
    points: Decimal  # negative for deductions
    max_points: Decimal
    value: Decimal | str | None  # the evidence value the rule was applied to
    evidence: EvidenceKind
    rule: RuleKind
    window: tuple[str, str]  # first and last month of evidence looked at
    # Done in full: at its maximum, and for an item worth no points (an innovation
    # project a star level asks for), its evidence actually reached, not merely chosen.
    met: bool = False


@dataclass(slots=True)
class DimensionResult:
    key: str
    points: Decimal  # after zeroing
    max_points: Decimal


@dataclass(slots=True)
class VetoHit:
    key: str
    effect: VetoEffect
    level: int  # the level the branch is put at (LOWEST) or capped at (CAP)


@dataclass(slots=True)
class ZeroingHit:
    key: str
    target: ZeroTarget
    target_key: str
    points_removed: Decimal


@dataclass(slots=True)
class PoolResult:
    """A capped pool (featured items, bonus, deductions): what was earned and what counted."""

    earned: Decimal
    cap: Decimal
    counted: Decimal


@dataclass(slots=True)
class StarRating:
    branch_id: Any
    scheme: str
    stars: int
    decided_by: DecidedBy
    rule: str  # THRESHOLD/QUOTA: the level's star count as text; VETO: the veto key
    points: Decimal
    unmet: tuple[int, ...] = ()  # levels whose points were reached but whose conditions not
    rank: int | None = None  # QUOTA: 1-based place in the ranking


@dataclass(slots=True)
class BranchResult:
    branch_id: Any
    domain: str
    period: str
    total: Decimal
    max_points: Decimal
    dimensions: tuple[DimensionResult, ...]
    items: tuple[ItemResult, ...]  # every item, featured, bonus and deduction line
    featured: PoolResult
    bonus: PoolResult
    deductions: PoolResult  # positive amounts; subtracted from the total
    zeroed: tuple[ZeroingHit, ...]
    vetoes: tuple[VetoHit, ...]
    stars: StarRating | None  # None when the default scheme is quota-based
    meets_standard: bool

    def item(self, key: str) -> ItemResult:
        for item in self.items:
            if item.key == key:
                return item
        raise KeyError(key)


@dataclass(slots=True)
class ComplianceRate:
    met: int
    total: int
    rate: Decimal  # met / total, rounded to 4 places (0.9932 = 99.32%); 0 for no branches


@dataclass(slots=True)
class HardRuleHit:
    key: str
    max_grade: Grade


@dataclass(slots=True)
class WeightedPart:
    part: VanguardPart
    value: Decimal | None  # 0–100; None when missing
    weight: Decimal  # the weight actually used (after reweighting)
    points: Decimal  # value × weight, rounded


def cents(value: int) -> Decimal:
    """Hundredths (the engine's integer form of points) as a Decimal: 1234 → 12.34."""
    return Decimal(value).scaleb(-2)


@dataclass(slots=True)
class MemberResult:
    """One member's Vanguard Index, in the rubric's own points (0–``max_c``/100).

    Scoring 26,000 members has to be fast, so numbers are kept as integer hundredths
    (``*_c``) and key tuples are shared with the rubric's plan; the properties give the
    usual ``Decimal`` values and structures.
    """

    member_id: Any
    branch_id: Any
    category: str
    period: str
    subindex_keys: tuple[str, ...]
    subindex_c: tuple[int, ...]  # after zeroing
    subindex_max_c: tuple[int, ...]
    item_keys: tuple[str, ...]  # the variant's sub-index items
    item_c: tuple[int, ...]
    part_keys: tuple[VanguardPart, ...]
    part_value_c: tuple[int | None, ...]  # 0–10000; None: not given
    part_weight: tuple[Decimal, ...]  # the weights used, after any reweighting
    part_c: tuple[int, ...]
    basic_c: int  # the weighted sum, 0–10000
    bonus_items: tuple[tuple[str, int], ...]  # lines that earned something
    bonus_earned_c: int
    bonus_c: int  # counted, after the cap
    deduction_items: tuple[tuple[str, int], ...]  # lines that took something
    deduction_earned_c: int
    deduction_c: int  # counted, after the cap; subtracted
    zeroed: tuple[ZeroingHit, ...]
    total_c: int  # basic + bonus − deductions, clamped to 0–10000, after zeroing
    hard_rules: tuple[HardRuleHit, ...]
    grade: Grade  # from the thresholds and hard rules, before the branch-level cap
    bonus_cap_c: int = 0
    deduction_cap_c: int = 0
    max_c: int = 10000  # the rubric's maximum in hundredths (4000 for a 40-point rubric)

    @property
    def total(self) -> Decimal:
        return cents(self.total_c)

    @property
    def basic(self) -> Decimal:
        return cents(self.basic_c)

    @property
    def subindices(self) -> tuple[DimensionResult, ...]:
        return tuple(
            DimensionResult(k, cents(p), cents(m))
            for k, p, m in zip(
                self.subindex_keys, self.subindex_c, self.subindex_max_c, strict=True
            )
        )

    def subindex(self, key: str) -> Decimal:
        return cents(self.subindex_c[self.subindex_keys.index(key)])

    def items(self) -> tuple[tuple[str, Decimal], ...]:
        return tuple((k, cents(p)) for k, p in zip(self.item_keys, self.item_c, strict=True))

    @property
    def parts(self) -> tuple[WeightedPart, ...]:
        return tuple(
            WeightedPart(k, None if v is None else cents(v), w, cents(p))
            for k, v, w, p in zip(
                self.part_keys, self.part_value_c, self.part_weight, self.part_c, strict=True
            )
        )

    def part_value(self, part: VanguardPart) -> Decimal | None:
        if part not in self.part_keys:
            return None
        value = self.part_value_c[self.part_keys.index(part)]
        return None if value is None else cents(value)

    @property
    def bonus(self) -> PoolResult:
        return PoolResult(cents(self.bonus_earned_c), cents(self.bonus_cap_c), cents(self.bonus_c))

    @property
    def deductions(self) -> PoolResult:
        return PoolResult(
            cents(self.deduction_earned_c), cents(self.deduction_cap_c), cents(self.deduction_c)
        )


@dataclass(slots=True)
class CapDecision:
    member_id: Any
    before: Grade
    after: Grade
    why: CapMove
    rank: int | None = None  # place in the branch ranking (1 = best)
    reason: str = ""  # OVERRIDE: the branch's written reason


@dataclass(slots=True)
class Override:
    """A branch review's decision that overrules the computed grade (看票不唯票)."""

    member_id: Any
    grade: Grade
    reason: str


@dataclass(slots=True)
class BranchGrading:
    branch_id: Any
    grades: Mapping[Any, Grade]  # member id → final grade
    places: int  # excellent places available
    ranking: tuple[Any, ...]  # member ids, best first, by score then the tie-breaks
    moves: tuple[CapDecision, ...]  # who moved, and why


# ---------------------------------------------------------------- composed rubrics


@dataclass(frozen=True, slots=True)
class VoteOption:
    key: str
    name_zh: str
    name_en: str
    value: Decimal  # what one ballot for this option is worth, 0–100


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One rubric file that went into a composed rubric (shown by ``rubric show``)."""

    path: str
    part: str
    version: str
    name_zh: str
    name_en: str


@dataclass(frozen=True, slots=True, eq=False)
class FortressRubric:
    """The Fortress Index rules of a city: 1 common + 4 domain parts + featured items.

    ``eq=False`` keeps identity hashing, so the compiled plan can be cached per rubric.
    """

    version: str
    name_zh: str
    name_en: str
    max_points: Decimal
    common_points: Decimal
    domain_points: Decimal
    featured_cap: Decimal
    bonus_cap: Decimal
    deduction_cap: Decimal
    dimensions: tuple[Named, ...]
    items: tuple[Item, ...]  # common, domain and featured items
    bonus: tuple[Item, ...]
    deductions: tuple[Item, ...]
    vetoes: tuple[Veto, ...]
    zeroing: tuple[Zeroing, ...]
    quorum: Mapping[str, Decimal]  # meeting kind → share of attendance that must be exceeded
    schemes: Mapping[str, StarScheme]
    default_scheme: str
    compliance: Compliance
    effort: Effort
    sources: tuple[SourceFile, ...]
    base_points: Decimal = ZERO  # a deduction sheet's starting score (扣分制), part of the max
    data: tuple[Named, ...] = ()  # human names of the data keys items read (events, flags)

    def item(self, key: str) -> Item:
        for item in (*self.items, *self.bonus, *self.deductions):
            if item.key == key:
                return item
        raise KeyError(key)


@dataclass(frozen=True, slots=True, eq=False)
class VanguardRubric:
    version: str
    name_zh: str
    name_en: str
    period: Period
    subindices: tuple[Named, ...]
    subindex_max: Mapping[str, Decimal]
    variants: Mapping[str, Variant]
    weights: tuple[tuple[VanguardPart, Decimal], ...]
    missing: MissingPart
    vote_options: tuple[VoteOption, ...]
    bonus: tuple[Item, ...]
    deductions: tuple[Item, ...]
    bonus_cap: Decimal
    deduction_cap: Decimal
    zeroing: tuple[Zeroing, ...]
    hard_rules: tuple[HardRule, ...]
    grades: tuple[tuple[Grade, Decimal], ...]  # (grade, min points), best first
    excellent_cap: ExcellentCap
    sources: tuple[SourceFile, ...]
    max_points: Decimal = HUNDRED  # the rubric's own scale: totals, grades and caps use it
    base_points: Decimal | None = None  # a deduction sheet's starting score (no parts)
    data: tuple[Named, ...] = ()  # human names of the data keys items read (events, flags)
