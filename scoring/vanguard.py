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

from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from functools import lru_cache, partial
from itertools import compress, product, repeat
from operator import add, attrgetter, itemgetter
from typing import Any

from scoring.batch import no_cycle_collection
from scoring.evidence import rate
from scoring.model import (
    ZERO,
    BranchGrading,
    CapDecision,
    CapMove,
    Condition,
    Evidence,
    EvidenceKind,
    Grade,
    HardRuleHit,
    Item,
    MemberFacts,
    MemberResult,
    MissingPart,
    Override,
    VanguardPart,
    VanguardRubric,
    Zeroing,
    ZeroingHit,
    ZeroTarget,
    cents,
    q,
)
from scoring.rules import compile_rule, triggered


class OverrideError(ValueError):
    """A branch-review override that cannot stand. ``code``: reason_required,
    unknown_member, unknown_grade (a grade the rubric does not have), above_hard_rule
    or over_cap."""

    def __init__(self, code: str, member_id: Any) -> None:
        self.code = code
        self.member_id = member_id
        super().__init__(f"{code}: {member_id!r}")


_SOURCES = {
    EvidenceKind.EVENTS: "events",
    EvidenceKind.RATIO: "events",
    EvidenceKind.TASK: "tasks",
    EvidenceKind.FLAG: "flags",
    EvidenceKind.GRADE: "grades",
}


_FIELDS = (
    "member_id",
    "branch_id",
    "category",
    "period",
    "events",
    "tasks",
    "flags",
    "grades",
    "self_score",
    "review_score",
    "ballots",
)


def _wanted(evidence: Iterable[Evidence]) -> dict[str, tuple[str, ...]]:
    """The keys read from each of a member's mappings, for ``_Batch``."""
    out: dict[str, dict[str, None]] = {}
    for ev in evidence:
        keys = out.setdefault(_SOURCES[ev.kind], {})
        keys[ev.key] = None
        if ev.kind is EvidenceKind.RATIO:
            keys[ev.den] = None
    return {source: tuple(keys) for source, keys in out.items()}


class _Batch:
    """The members of one category being scored together, with shared value columns.

    A member's mapping is read once for all the keys the plan wants from it, then the
    rows are turned into columns: reading one key at a time for 26,000 members walks
    memory once per key, which costs more than the lookups themselves.
    """

    __slots__ = ("cache", "facts", "fields", "n", "same", "wanted")

    def __init__(self, facts: list[MemberFacts], wanted: Mapping[str, tuple[str, ...]]) -> None:
        self.facts = facts
        self.n = len(facts)
        self.wanted = wanted
        # Every field used, in one pass over the members (see above).
        rows = list(map(attrgetter(*_FIELDS), facts))
        columns = list(zip(*rows, strict=True)) if rows else [()] * len(_FIELDS)
        self.fields = dict(zip(_FIELDS, columns, strict=True))
        self.cache: dict[Any, Sequence[Any]] = {}
        self.same: dict[Any, Any] = {}  # columns with one value for every member: that value

    def column(self, source: str, key: str) -> Sequence[Any]:
        """Each member's value of ``key`` in ``source`` (absent: 0, or None for grades)."""
        col = self.cache.get((source, key))
        if col is None:
            keys = self.wanted.get(source, ())
            if key not in keys:
                keys = (key,)
            self._read(source, keys)
            col = self.cache[source, key]
        return col

    def _read(self, source: str, keys: tuple[str, ...]) -> None:
        n = self.n
        default = None if source == "grades" else 0
        found = self.fields[source]
        plain = set(map(type, found)) == {dict}  # so that ``d[k]`` cannot insert a default
        cols: dict[str, Sequence[Any]] = {}
        rows = None
        absent: tuple[str, ...] = ()
        if not any(found):  # no member has tasks or flags: the common case for flags
            keys, absent = (), keys
        elif plain and len(keys) > 1:
            rows = _get_all(keys, found)
            if rows is None:
                # Some key is missing somewhere: set aside the keys no member has.
                present = set().union(*found)
                absent = tuple(k for k in keys if k not in present)
                keys = tuple(k for k in keys if k in present)
        for k in absent:
            cols[k] = (default,) * n
            self.same[source, k] = default
        if len(keys) == 1:
            cols[keys[0]] = [f.get(keys[0], default) for f in found]
        elif keys:
            if rows is None and plain:
                rows = _get_all(keys, found)
            if rows is None:
                defaults = (default,) * len(keys)
                rows = [tuple(map(f.get, keys, defaults)) if f else defaults for f in found]
            cols.update(zip(keys, zip(*rows, strict=True), strict=True))
        for k, col in cols.items():
            self.cache[source, k] = col

    def values(self, ev: Evidence) -> Sequence[Any]:
        """Each member's value: a count, a grade, or (numerator, denominator)."""
        source = _SOURCES[ev.kind]
        if ev.kind is EvidenceKind.RATIO:
            key = ("ratio", ev.key, ev.den)
            if key not in self.cache:
                self.cache[key] = list(
                    zip(self.column(source, ev.key), self.column(source, ev.den), strict=True)
                )
            return self.cache[key]
        return self.column(source, ev.key)

    def constant(self, ev: Evidence) -> tuple[Any, ...]:
        """``(value,)`` when every member has the same value for ``ev``, else ``()``."""
        source = _SOURCES[ev.kind]
        self.values(ev)
        if ev.kind is EvidenceKind.RATIO:
            num, den = (source, ev.key), (source, ev.den)
            if num in self.same and den in self.same:
                return ((self.same[num], self.same[den]),)
            return ()
        return (self.same[source, ev.key],) if (source, ev.key) in self.same else ()


def _get_all(keys: tuple[str, ...], found: list[dict]) -> list[tuple[Any, ...]] | None:
    """Every member's values of ``keys`` (two or more), in C; None if one lacks a key."""
    try:
        return list(map(itemgetter(*keys), found))
    except KeyError:
        return None


Column = Callable[[_Batch], list[Any]]


class _Memo(dict):
    """Results of a rule per evidence value: values repeat a lot (small counts, a few
    grades), so the Decimal rule runs once per distinct value."""

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        super().__init__()
        self.fn = fn

    def __missing__(self, value: Any) -> Any:
        out = self.fn(value)
        if len(self) < 50_000:
            self[value] = out
        return out


def _memoised(ev: Evidence, fn: Callable[[Any], Any]) -> Column:
    """Apply ``fn`` to each member's value (a ratio's as a rate), through a memo."""
    if ev.kind is EvidenceKind.RATIO:
        memo = _Memo(lambda v: fn(rate(*v)))
    else:
        memo = _Memo(fn)

    def column(batch: _Batch) -> list[Any]:
        same = batch.constant(ev)
        if same:
            return [memo[same[0]]] * batch.n
        return list(map(memo.__getitem__, batch.values(ev)))

    return column


def _points_column(item: Item) -> Column:
    scorer = compile_rule(item.rule)
    return _memoised(item.evidence, lambda v: int(scorer(v) * 100))


def _condition_column(when: Condition) -> Column:
    return _memoised(when.evidence, lambda v: triggered(v, when.below, when.at_least))


@dataclass(frozen=True, slots=True)
class _VariantPlan:
    keys: tuple[str, ...]
    columns: tuple[Column, ...]
    groups: tuple[tuple[int, ...], ...]  # per sub-index, the positions of its items
    group_of: tuple[int, ...]  # per item, its sub-index
    bonus_keys: tuple[str, ...]
    bonus: tuple[Column, ...]
    deduction_keys: tuple[str, ...]
    deductions: tuple[Column, ...]
    wanted: dict[str, tuple[str, ...]]  # the keys read from each of a member's mappings


@dataclass(frozen=True, slots=True)
class VanguardPlan:
    rubric: VanguardRubric
    variants: dict[str, _VariantPlan]
    groups: tuple[str, ...]
    group_max_c: tuple[int, ...]
    index_max_c: int
    zeroing: tuple[tuple[Column, Zeroing], ...]
    hard_rules: tuple[tuple[Column, HardRuleHit], ...]
    votes_c: dict[str, int]
    parts: tuple[VanguardPart, ...]
    weights: tuple[int, ...]  # numerators over a common denominator
    # For each pattern of parts present: the denominator and the weights as Decimals.
    patterns: dict[tuple[bool, ...], tuple[int, tuple[Decimal, ...]]]
    grade_of: tuple[Grade, ...]  # total in hundredths (0–10000) → grade by the thresholds
    bonus_cap_c: int
    deduction_cap_c: int
    max_c: int = 10000  # the rubric's maximum in hundredths: totals are clamped to it
    base_c: int | None = None  # a deduction sheet's starting score, instead of the parts


def _c(value: Decimal) -> int:
    return int(value * 100)


def _weight_patterns(rubric: VanguardRubric) -> tuple[tuple[int, ...], dict]:
    if not rubric.weights:  # a deduction sheet: no parts
        return (), {(): (1, ())}
    scale = 10 ** max(-w.as_tuple().exponent for _, w in rubric.weights)
    weights = tuple(int(w * scale) for _, w in rubric.weights)
    patterns = {}
    for present in product((True, False), repeat=len(weights)):
        if rubric.missing is MissingPart.REWEIGHT:
            denom = sum(w for w, here in zip(weights, present, strict=True) if here)
        else:
            denom = scale
        used = tuple(
            (Decimal(w) / denom).quantize(Decimal("0.0001"), ROUND_HALF_UP)
            if here and denom
            else ZERO
            for w, here in zip(weights, present, strict=True)
        )
        patterns[present] = (denom, used)
    return weights, patterns


@lru_cache(maxsize=16)
def compile_vanguard(rubric: VanguardRubric) -> VanguardPlan:
    groups = tuple(s.key for s in rubric.subindices)
    variants = {}
    for cat, v in rubric.variants.items():
        group_of = tuple(groups.index(i.dimension) for i in v.items)
        bonus, deds = (*rubric.bonus, *v.bonus), (*rubric.deductions, *v.deductions)
        variants[cat] = _VariantPlan(
            tuple(i.key for i in v.items),
            tuple(_points_column(i) for i in v.items),
            tuple(tuple(j for j, g in enumerate(group_of) if g == k) for k in range(len(groups))),
            group_of,
            tuple(i.key for i in bonus),
            tuple(_points_column(i) for i in bonus),
            tuple(i.key for i in deds),
            tuple(_points_column(i) for i in deds),
            _wanted(
                i.evidence if isinstance(i, Item) else i.when.evidence
                for i in (*v.items, *bonus, *deds, *rubric.zeroing, *rubric.hard_rules)
            ),
        )
    group_max_c = tuple(_c(rubric.subindex_max[g]) for g in groups)
    weights, patterns = _weight_patterns(rubric)
    return VanguardPlan(
        rubric,
        variants,
        groups,
        group_max_c,
        sum(group_max_c),
        tuple((_condition_column(z.when), z) for z in rubric.zeroing),
        tuple(
            (_condition_column(h.when), HardRuleHit(h.key, h.max_grade)) for h in rubric.hard_rules
        ),
        {o.key: _c(o.value) for o in rubric.vote_options},
        tuple(p for p, _ in rubric.weights),
        weights,
        patterns,
        _grade_table(rubric),
        _c(rubric.bonus_cap),
        _c(rubric.deduction_cap),
        _c(rubric.max_points),
        None if rubric.base_points is None else _c(rubric.base_points),
    )


def _grade_table(rubric: VanguardRubric) -> tuple[Grade, ...]:
    mins = tuple(_c(m) for _, m in reversed(rubric.grades))  # ascending, for bisect
    grades = tuple(g for g, _ in reversed(rubric.grades))
    return tuple(
        grades[bisect_right(mins, total) - 1] for total in range(_c(rubric.max_points) + 1)
    )


def _half_up(num: int, den: int) -> int:
    """num / den rounded half up, for num ≥ 0 and den > 0, in integers."""
    return (2 * num + den) // (2 * den)


def _score_c(value: Decimal | int | None) -> int | None:
    if value is None:
        return None
    c = value * 100 if type(value) is int else _c(q(Decimal(value)))
    return min(max(c, 0), 10000)


def _vote_c(plan: VanguardPlan, ballots: tuple[tuple[str, int], ...]) -> int | None:
    cast = worth = 0
    for option, count in ballots:
        if option not in plan.votes_c:
            raise ValueError(f"unknown vote option: {option!r}")
        cast += count
        worth += plan.votes_c[option] * count
    return _half_up(worth, cast) if cast else None


def score_member(rubric: VanguardRubric, facts: MemberFacts) -> MemberResult:
    """The Vanguard Index of one member for ``facts.period``, with every reason."""
    return score_members(rubric, [facts])[0]


def score_members(rubric: VanguardRubric, facts: Sequence[MemberFacts]) -> list[MemberResult]:
    """Score many members at once (in the order given): each rule runs column by column."""
    plan = compile_vanguard(rubric)
    by_category: dict[str, list[int]] = {}
    for i, f in enumerate(facts):
        by_category.setdefault(f.category, []).append(i)
    out: list[Any] = [None] * len(facts)
    with no_cycle_collection():
        _score_categories(plan, facts, by_category, out)
    return out


def _score_categories(plan: VanguardPlan, facts, by_category: dict[str, list[int]], out) -> None:
    for category, positions in by_category.items():
        if category not in plan.variants:
            raise ValueError(f"no Vanguard variant for member category {category!r}")
        batch = [facts[i] for i in positions]
        for i, result in zip(
            positions, _score_batch(plan, plan.variants[category], batch), strict=True
        ):
            out[i] = result


def _columns(columns: Sequence[Column], batch: _Batch) -> list[list[Any]]:
    return [col(batch) for col in columns]


def _sum_columns(columns: Sequence[Sequence[int]], n: int) -> list[int]:
    # Bonus and deduction columns are mostly all zero: leave those out of the sums.
    columns = [col for col in columns if any(col)]
    if not columns:
        return [0] * n
    total: Iterable[int] = columns[0]
    for col in columns[1:]:
        total = map(add, total, col)
    return list(total)


def _capped(values: list[int], cap: int) -> list[int]:
    if cap >= 0 and not any(values):
        return values
    return [min(v, cap) for v in values]


def _rows(columns: list[list[Any]], n: int) -> list[tuple[Any, ...]]:
    return list(zip(*columns, strict=True)) if columns else [()] * n


def _hit_positions(columns: list[list[bool]], n: int) -> list[int]:
    """Members for whom any of the conditions holds, in order."""
    hit: set[int] = set()
    for col in columns:
        hit.update(compress(range(n), col))
    return sorted(hit)


def _score_batch(plan: VanguardPlan, vp: _VariantPlan, fs: list[MemberFacts]):
    """Everything is done column by column (list comprehensions over the members);
    the rare members hit by a zeroing clause are then fixed one by one."""
    batch = _Batch(fs, vp.wanted)
    n = batch.n
    cols = _columns(vp.columns, batch)
    rows = _rows(cols, n)
    sub_cols = [_sum_columns([cols[j] for j in g], n) for g in vp.groups]
    sub_rows = _rows(sub_cols, n)
    max_c = plan.index_max_c
    top = plan.max_c
    if plan.base_c is not None:  # a deduction sheet: everyone starts from the base
        indices = []
    else:
        # _half_up(t * 10000, max_c), inlined: it runs once per member.
        indices = [(t * 20000 + max_c) // (2 * max_c) for t in _sum_columns(sub_cols, n)]
    value_cols = _part_columns(plan, batch, indices)
    if top != 10000:
        # Parts are 0–100; a rubric on its own scale (40 points) takes its share of each.
        patterns = [
            plan.patterns[tuple(v is not None for v in row)] for row in _rows(value_cols, n)
        ]
        part_cols = [
            [
                0 if v is None else _half_up(v * w * top, d * 10000)
                for v, (d, _) in zip(col, patterns)  # noqa: B905
            ]
            for col, w in zip(value_cols, plan.weights, strict=True)
        ]
    elif any(None in col for col in value_cols):
        present = _rows([[v is not None for v in col] for col in value_cols], n)
        patterns = list(map(plan.patterns.__getitem__, present))
        part_cols = [
            [0 if v is None else (2 * v * w + d) // (2 * d) for v, (d, _) in zip(col, patterns)]  # noqa: B905
            for col, w in zip(value_cols, plan.weights, strict=True)
        ]
    else:  # every part given for everyone: one denominator
        patterns = [plan.patterns[(True,) * len(value_cols)]] * n
        d = patterns[0][0] if n else 1
        part_cols = [
            [(2 * v * w + d) // (2 * d) for v in col]
            for col, w in zip(value_cols, plan.weights, strict=True)
        ]
    part_rows = _rows(part_cols, n)
    if plan.base_c is not None:
        basic = [plan.base_c] * n
    else:
        basic = list(map(min, _sum_columns(part_cols, n), repeat(top)))
    bonus_cols, ded_cols = _columns(vp.bonus, batch), _columns(vp.deductions, batch)
    bonus, deds = _sum_columns(bonus_cols, n), _sum_columns(ded_cols, n)
    b_cap, d_cap = plan.bonus_cap_c, plan.deduction_cap_c
    b_counted, d_counted = _capped(bonus, b_cap), _capped(deds, d_cap)
    if any(b_counted) or any(d_counted):
        totals = [min(max(x + b - d, 0), top) for x, b, d in zip(basic, b_counted, d_counted)]  # noqa: B905
    else:
        totals = list(map(max, basic, repeat(0)))  # basic is at most the maximum already
    zeroed: list[tuple[ZeroingHit, ...]] = [()] * n
    value_rows = _rows(value_cols, n)
    if plan.zeroing:
        zero_cols = _columns([c for c, _ in plan.zeroing], batch)
        for i in _hit_positions(zero_cols, n):
            flags = tuple(col[i] for col in zero_cols)
            row, zeroed[i], zero_total = _zero(plan, vp, rows[i], flags)
            rows[i] = row
            sub_rows[i] = tuple(sum(row[j] for j in g) for g in vp.groups)
            if plan.base_c is None:
                idx = _half_up(sum(sub_rows[i]) * 10000, max_c)
                part_rows[i], basic[i] = _reweigh(plan, value_rows[i], idx, patterns[i][0])
            totals[i] = (
                0 if zero_total else min(max(basic[i] + b_counted[i] - d_counted[i], 0), top)
            )
    grades = list(map(plan.grade_of.__getitem__, totals))
    hits: list[tuple[HardRuleHit, ...]] = [()] * n
    for col, hit in zip(
        _columns([c for c, _ in plan.hard_rules], batch),
        [h for _, h in plan.hard_rules],
        strict=True,
    ):
        for i in compress(range(n), col):
            hits[i] += (hit,)
            grades[i] = min(grades[i], hit.max_grade)
    return list(
        map(
            MemberResult,
            batch.fields["member_id"],
            batch.fields["branch_id"],
            batch.fields["category"],
            batch.fields["period"],
            repeat(plan.groups),
            sub_rows,
            repeat(plan.group_max_c),
            repeat(vp.keys),
            rows,
            repeat(plan.parts),
            value_rows,
            [p[1] for p in patterns],
            part_rows,
            basic,
            [_lines(vp.bonus_keys, bonus_cols, i) if b else () for i, b in enumerate(bonus)],
            bonus,
            b_counted,
            [_lines(vp.deduction_keys, ded_cols, i) if d else () for i, d in enumerate(deds)],
            deds,
            d_counted,
            zeroed,
            totals,
            hits,
            grades,
            repeat(b_cap),
            repeat(d_cap),
            repeat(top),
        )
    )


def _reweigh(plan: VanguardPlan, values: tuple, indices: int, denom: int):
    """Parts again after zeroing changed the indices part (rare: member by member)."""
    values = tuple(
        indices if p is VanguardPart.INDICES else v for p, v in zip(plan.parts, values, strict=True)
    )
    top = plan.max_c
    parts = tuple(
        0 if v is None else _half_up(v * w * top, denom * 10000)
        for v, w in zip(values, plan.weights, strict=True)
    )
    return parts, min(sum(parts), top)


def _lines(keys: tuple[str, ...], cols: list[list[int]], i: int) -> tuple[tuple[str, int], ...]:
    return tuple((k, col[i]) for k, col in zip(keys, cols, strict=True) if col[i])


def _part_columns(plan: VanguardPlan, batch: _Batch, indices: list[int]):
    scores = _Memo(_score_c)
    votes = _Memo(partial(_vote_c, plan))
    fields = batch.fields
    table = {
        VanguardPart.INDICES: lambda: indices,
        VanguardPart.SELF: lambda: list(map(scores.__getitem__, fields["self_score"])),
        VanguardPart.VOTE: lambda: list(
            map(votes.__getitem__, [tuple(b.items()) for b in fields["ballots"]])
        ),
        VanguardPart.REVIEW: lambda: list(map(scores.__getitem__, fields["review_score"])),
    }
    return [table[p]() for p in plan.parts]


def _zero(plan: VanguardPlan, vp: _VariantPlan, row: tuple[int, ...], flags: tuple[bool, ...]):
    """Apply the zeroing clauses a member triggered (rare: done member by member)."""
    points = list(row)
    hits, zero_total = [], False
    for (_, clause), hit in zip(plan.zeroing, flags, strict=True):
        if not hit:
            continue
        if clause.target is ZeroTarget.TOTAL:
            zero_total, removed = True, 0
        else:
            if clause.target is ZeroTarget.DIMENSION:
                g = plan.groups.index(clause.target_key)
                chosen = vp.groups[g]
            else:
                chosen = [j for j, k in enumerate(vp.keys) if k == clause.target_key]
            removed = sum(points[j] for j in chosen)
            for j in chosen:
                points[j] = 0
        hits.append(ZeroingHit(clause.key, clause.target, clause.target_key, cents(removed)))
    return tuple(points), tuple(hits), zero_total


# ---------------------------------------------------------------- a branch's grades


_ROUNDING = {"floor": ROUND_FLOOR, "half_up": ROUND_HALF_UP, "ceil": ROUND_CEILING}


@lru_cache(maxsize=1024)
def excellent_places(rubric: VanguardRubric, members: int) -> int:
    """How many members of a branch of this size may be excellent."""
    cap = rubric.excellent_cap
    places = int((cap.share * members).quantize(Decimal(1), rounding=_ROUNDING[cap.rounding]))
    return min(members, max(places, cap.minimum))


def _sort_keys(tie_parts: tuple[VanguardPart, ...], results: list[MemberResult]) -> dict:
    """Member id → ranking key: the total, then the tie-break parts; higher is better and
    a part that is missing ranks below any given value."""
    keys: dict[Any, tuple[int, ...]] = {}
    part_keys: tuple[VanguardPart, ...] | None = None
    where: tuple[int | None, ...] = ()
    get: Callable[[tuple], tuple] | None = None
    for r in results:
        if r.part_keys is not part_keys:  # members of one plan share the tuple
            part_keys = r.part_keys
            where = tuple(part_keys.index(p) if p in part_keys else None for p in tie_parts)
            # The usual case, every tie-break part known: pick them out in one go.
            get = itemgetter(*where) if len(where) > 1 and None not in where else None
        values = r.part_value_c
        if get is not None:
            ties = get(values)
            if None not in ties:
                keys[r.member_id] = (r.total_c, *ties)
                continue
        key = [r.total_c]
        for i in where:
            v = None if i is None else values[i]
            key.append(-1 if v is None else v)
        keys[r.member_id] = tuple(key)
    return keys


@lru_cache(maxsize=16)
def _tie_parts(rubric: VanguardRubric) -> tuple[VanguardPart, ...]:
    return tuple(VanguardPart(name) for name in rubric.excellent_cap.tie_break)


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
    keys = _sort_keys(_tie_parts(rubric), results)
    ranking = tuple(sorted(by_id, key=keys.__getitem__, reverse=True))
    grades = {r.member_id: r.grade for r in results}
    moves: list[CapDecision] = []

    overridden = set()
    existing = {g for g, _ in rubric.grades}
    for o in overrides:
        _check_override(o, by_id)
        if o.grade not in existing:
            raise OverrideError("unknown_grade", o.member_id)
        overridden.add(o.member_id)
        moves.append(
            CapDecision(
                o.member_id,
                grades[o.member_id],
                o.grade,
                CapMove.OVERRIDE,
                _place(ranking, keys, o.member_id),
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
            place = _place(ranking, keys, m)
            moves.append(CapDecision(m, Grade.EXCELLENT, Grade.QUALIFIED, why, place))
            grades[m] = Grade.QUALIFIED
    branch = next(iter(branches)) if branches else None
    return BranchGrading(branch, grades, places, ranking, tuple(moves))


def _place(ranking: tuple[Any, ...], keys: dict[Any, tuple], member: Any) -> int:
    """A member's 1-based place; members with equal keys share the better place.

    Worked out only for the members who move (most keep their grade)."""
    i = ranking.index(member)
    while i and ranking[i - 1] is not None and keys[ranking[i - 1]] == keys[ranking[i]]:
        i -= 1
    return i + 1


def _check_override(o: Override, by_id: dict[Any, MemberResult]) -> None:
    if not o.reason or not o.reason.strip():
        raise OverrideError("reason_required", o.member_id)
    result = by_id.get(o.member_id)
    if result is None:
        raise OverrideError("unknown_member", o.member_id)
    ceiling = min((h.max_grade for h in result.hard_rules), default=Grade.EXCELLENT)
    if o.grade > ceiling:
        raise OverrideError("above_hard_rule", o.member_id)
