"""Evidence: a branch's facts folded into per-month arrays, and readers for each kind.

A branch is scored in month M of year Y. Its facts are folded once into arrays of 24
months, January of Y−1 to December of Y, so that every item's window (and the previous
period's window, for carrying credit) is a slice. Facts after M are ignored: the score
of a month never depends on the future.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

from scoring.model import BranchFacts, Evidence, EvidenceKind, Meeting, MemberFacts
from scoring.periods import Period, parse_month

SPAN = 24
RATE_PLACES = Decimal("0.0001")
_MONTHS_IN = {Period.MONTH: 1, Period.QUARTER: 3, Period.HALF: 6, Period.YEAR: 12}
_month_cache: dict[str, int] = {}


def month_index(month: str) -> int:
    """``"2026-07"`` → months since year 0, cached: the same few keys recur a lot."""
    idx = _month_cache.get(month)
    if idx is None:
        year, mon = parse_month(month)
        idx = _month_cache[month] = year * 12 + mon - 1
    return idx


@lru_cache(maxsize=8192)
def rate(num: int, den: int) -> Decimal | None:
    """A share rounded to 4 places (half up), or None when there is nothing to divide by.

    Cached: counts are small and the same shares recur across a city's branches."""
    if den <= 0:
        return None
    return (Decimal(num) / Decimal(den)).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


@dataclass(slots=True)
class Window:
    first: int  # offsets into the 24-month arrays, inclusive
    last: int
    prev_first: int  # the previous period, for carrying credit; −1 when out of range
    prev_last: int
    open: bool  # the period continues after the scored month
    label: tuple[str, str]  # first and last month as "YYYY-MM", for the results
    prev_label: tuple[str, str]


class _Meetings:
    __slots__ = ("attended", "counted", "expected", "held")

    def __init__(self) -> None:
        self.held = [0] * SPAN
        self.counted = [0] * SPAN
        self.attended = [0] * SPAN
        self.expected = [0] * SPAN


_EMPTY = [0] * SPAN


class BranchEvidence:
    """The facts of one branch for one scored month, ready for the readers below."""

    __slots__ = (
        "base",
        "counts",
        "current",
        "grades",
        "meetings",
        "miss_first",
        "miss_last",
        "raw",
        "windows",
    )

    def __init__(self, facts: BranchFacts, quorum: Mapping[str, Decimal]) -> None:
        year, mon = parse_month(facts.period)
        base = self.base = (year - 1) * 12
        current = self.current = 12 + mon - 1
        # The months that can be missed: under the scheme, and over (see BranchFacts).
        since = month_index(facts.since) - base if facts.since else 0
        self.miss_first = max(0, since)
        self.miss_last = current - 1 if facts.month_open else current
        self.grades = facts.grades
        # Counts are folded on first use: facts often carry keys no item reads.
        self.raw = {"events": facts.events, "tasks": facts.tasks, "flags": facts.flags}
        self.counts: dict[tuple[str, str], list[int]] = {}
        self.meetings = _fold_meetings(facts.meetings, base, current, quorum_ratios(quorum))
        self.windows = _windows(base, current)

    def series(self, source: str, key: str) -> list[int]:
        arr = self.counts.get((source, key))
        if arr is None:
            arr = self.counts[source, key] = self._fold(self.raw[source].get(key))
        return arr

    def _fold(self, months: Mapping[str, int] | None) -> list[int]:
        if not months:
            return _EMPTY
        arr = [0] * SPAN
        base, current = self.base, self.current
        offsets = _offsets(base, current)
        for month, n in months.items():
            off = offsets.get(month)
            if off is None:
                # Not a month in range in its usual spelling: validate it the slow way.
                off = month_index(month) - base
                if not 0 <= off <= current:
                    continue
            arr[off] += n
        return arr

    def add_meeting(
        self,
        kind: str,
        index: int,
        attended: int,
        expected: int,
        counts: bool | None,
        ratios: Mapping[str, tuple[int, int]],
    ) -> None:
        """Record a meeting; ``ratios`` is the quorum as fractions (see ``_ratios``)."""
        off = index - self.base
        if not 0 <= off <= self.current:
            return
        rec = self.meetings.get(kind)
        if rec is None:
            rec = self.meetings[kind] = _Meetings()
        rec.held[off] += 1
        if counts is None:
            ratio = ratios.get(kind)
            # "More than half" is strict; without a headcount the quorum cannot be shown.
            counts = ratio is None or (expected > 0 and attended * ratio[1] > expected * ratio[0])
        if counts:
            rec.counted[off] += 1
        rec.attended[off] += attended
        rec.expected[off] += expected

    def add_count(self, source: str, key: str, n: int) -> None:
        arr = self.series(source, key)
        if arr is _EMPTY:
            arr = self.counts[source, key] = [0] * SPAN
        arr[self.current] += n

    def copy(self) -> BranchEvidence:
        """A copy whose arrays can be changed (for "what if") without touching this one."""
        other = object.__new__(BranchEvidence)
        other.base, other.current, other.grades = self.base, self.current, dict(self.grades)
        other.miss_first, other.miss_last = self.miss_first, self.miss_last
        other.windows, other.raw = self.windows, self.raw
        other.counts = {k: list(v) for k, v in self.counts.items()}
        other.meetings = {}
        for kind, rec in self.meetings.items():
            new = other.meetings[kind] = _Meetings()
            for attr in _Meetings.__slots__:
                setattr(new, attr, list(getattr(rec, attr)))
        return other


@lru_cache(maxsize=16)
def _ratios(quorum: tuple[tuple[str, Decimal], ...]) -> dict[str, tuple[int, int]]:
    """Quorum shares as integer fractions, so checking a meeting needs no Decimal."""
    return {kind: share.as_integer_ratio() for kind, share in quorum}


def quorum_ratios(quorum: Mapping[str, Decimal]) -> dict[str, tuple[int, int]]:
    return _ratios(tuple(quorum.items()))


def _fold_meetings(
    meetings: Iterable[Meeting], base: int, current: int, ratios: Mapping[str, tuple[int, int]]
) -> dict[str, _Meetings]:
    """Fold meetings into per-kind monthly arrays: ``add_meeting`` inlined, since a city's
    month is some 80,000 meetings."""
    out: dict[str, _Meetings] = {}
    get = out.get
    for m in meetings:
        d = m.date
        off = d.year * 12 + d.month - 1 - base
        if not 0 <= off <= current:
            continue
        kind = m.kind
        rec = get(kind)
        if rec is None:
            rec = out[kind] = _Meetings()
        attended, expected, counts = m.attended, m.expected, m.counts
        rec.held[off] += 1
        if counts is None:
            ratio = ratios.get(kind)
            counts = ratio is None or (expected > 0 and attended * ratio[1] > expected * ratio[0])
        if counts:
            rec.counted[off] += 1
        rec.attended[off] += attended
        rec.expected[off] += expected
    return out


@lru_cache(maxsize=64)
def _offsets(base: int, current: int) -> dict[str, int]:
    """``"YYYY-MM"`` → offset, for the months a scored month looks at."""
    return {_label(base + off): off for off in range(current + 1)}


@lru_cache(maxsize=64)
def _windows(base: int, current: int) -> dict[Period, Window]:
    """The windows of every period for a scored month (the same for every branch)."""
    out = {}
    for period, size in _MONTHS_IN.items():
        first = current - (current % size)
        prev_first = first - size
        out[period] = Window(
            first,
            current,
            prev_first,
            first - 1,
            current != first + size - 1,
            (_label(base + first), _label(base + current)),
            (_label(base + prev_first), _label(base + first - 1)),
        )
    return out


def _label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


Reader = Callable[[BranchEvidence, int, int], Any]


def branch_reader(ev: Evidence) -> Reader:
    """A function (evidence, first, last) → the value of ``ev`` over that window.

    Readers run tens of thousands of times per city, so each looks its array up
    directly and folds it (as ``series`` does) the first time.
    """
    key = ev.key
    kind = ev.kind
    if kind is EvidenceKind.GRADE:
        return lambda be, a, b: be.grades.get(key)
    if kind in (EvidenceKind.EVENTS, EvidenceKind.TASK, EvidenceKind.FLAG):
        source = {"events": "events", "task": "tasks", "flag": "flags"}[kind.value]
        ref = (source, key)

        def count(be: BranchEvidence, a: int, b: int) -> int:
            arr = be.counts.get(ref)
            if arr is None:
                arr = be.counts[ref] = be._fold(be.raw[source].get(key))
            return sum(arr[a : b + 1])

        return count
    if kind is EvidenceKind.RATIO:
        den = ev.den
        num_ref, den_ref = ("events", key), ("events", den)

        def ratio(be: BranchEvidence, a: int, b: int) -> Decimal | None:
            counts = be.counts
            num = counts.get(num_ref)
            if num is None:
                num = counts[num_ref] = be._fold(be.raw["events"].get(key))
            of = counts.get(den_ref)
            if of is None:
                of = counts[den_ref] = be._fold(be.raw["events"].get(den))
            return rate(sum(num[a : b + 1]), sum(of[a : b + 1]))

        return ratio
    attr = "counted" if ev.quorum_only else "held"
    if kind is EvidenceKind.MEETINGS:
        return lambda be, a, b: sum(_series(be, key, attr)[a : b + 1])
    if kind is EvidenceKind.MONTHS_WITHOUT:

        def months_without(be: BranchEvidence, a: int, b: int) -> int:
            a, b = max(a, be.miss_first), min(b, be.miss_last)
            return _series(be, key, attr)[a : b + 1].count(0) if a <= b else 0

        return months_without

    def attendance(be: BranchEvidence, a: int, b: int) -> Decimal | None:
        rec = be.meetings.get(key)
        if rec is None:
            return None
        return rate(sum(rec.attended[a : b + 1]), sum(rec.expected[a : b + 1]))

    return attendance


def _series(be: BranchEvidence, kind: str, attr: str) -> list[int]:
    rec = be.meetings.get(kind)
    return _EMPTY if rec is None else getattr(rec, attr)


def missed_months(be: BranchEvidence, ev: Evidence, first: int, last: int) -> tuple[str, ...]:
    """The months ``months_without`` counts in a window, as "YYYY-MM" (to explain it)."""
    arr = _series(be, ev.key, "counted" if ev.quorum_only else "held")
    a, b = max(first, be.miss_first), min(last, be.miss_last)
    return tuple(_label(be.base + i) for i in range(a, b + 1) if arr[i] == 0)


MemberReader = Callable[[MemberFacts], Any]


def member_reader(ev: Evidence) -> MemberReader:
    key = ev.key
    if ev.kind is EvidenceKind.GRADE:
        return lambda mf: mf.grades.get(key)
    if ev.kind is EvidenceKind.RATIO:
        den = ev.den
        return lambda mf: rate(mf.events.get(key, 0), mf.events.get(den, 0))
    source = {"events": "events", "task": "tasks", "flag": "flags"}[ev.kind.value]
    return lambda mf: getattr(mf, source).get(key, 0)
