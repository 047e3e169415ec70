"""Reading rubric files (TOML), validating them, and composing them into one rubric.

Every problem is collected rather than raised at the first one, so ``rubric check``
can list them all. Each table remembers which keys the parser asked for; whatever is
left over is an unknown key, and ``difflib`` suggests the closest known one.
"""

from __future__ import annotations

import difflib
import itertools
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from scoring.errors import Problem, RubricError, RubricInvalid
from scoring.model import (
    ONE,
    ZERO,
    Compliance,
    Condition,
    Domain,
    Effort,
    Evidence,
    EvidenceKind,
    ExcellentCap,
    FortressRubric,
    Grade,
    HardRule,
    Item,
    MeetingKind,
    MemberCategory,
    MissingPart,
    Named,
    Part,
    Rule,
    RuleKind,
    SourceFile,
    StarLevel,
    StarMethod,
    StarScheme,
    TieRule,
    VanguardPart,
    VanguardRubric,
    Variant,
    Veto,
    VetoEffect,
    VoteOption,
    Zeroing,
    ZeroTarget,
)
from scoring.periods import Period
from scoring.source import (
    FULL_WIDTH,
    SYNTAX_AT,
    Locator,
    UndecodableError,
    decode,
    full_width_outside_strings,
    syntax_position,
)

RUBRICS_DIR = Path(__file__).resolve().parent / "rubrics"

E = TypeVar("E", bound=StrEnum)
_REQUIRED: Any = object()

# Which evidence each side can read: members have no meeting records of their own.
_BRANCH_EVIDENCE = tuple(EvidenceKind)
_MEMBER_EVIDENCE = (
    EvidenceKind.EVENTS,
    EvidenceKind.RATIO,
    EvidenceKind.TASK,
    EvidenceKind.GRADE,
    EvidenceKind.FLAG,
)


def suggest(word: str, options: Iterable[str]) -> str | None:
    found = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return found[0] if found else None


def _dec(value: int | float) -> Decimal:
    # str() first: TOML's 0.1 is the float 0.1000000000000000055…, people mean 0.1.
    return Decimal(str(value))


class _Context:
    def __init__(self, file: str) -> None:
        self.file = file
        self.errors: list[RubricError] = []

    def error(self, path: str, problem: Problem, suggestion: str | None = None, **args: Any):
        self.errors.append(RubricError(self.file, path, problem, args, suggestion))


class _Table:
    """A TOML table being read: typed getters that record errors and allowed keys."""

    def __init__(
        self, ctx: _Context, data: dict[str, Any], path: str = "", quiet: bool = False
    ) -> None:
        self.ctx = ctx
        self.data = data
        self.path = path
        self.allowed: set[str] = set()
        self.quiet = quiet  # a stand-in for a missing table: its absence is reported once

    @classmethod
    def stand_in(cls, ctx: _Context, path: str) -> _Table:
        return cls(ctx, {}, path, quiet=True)

    def where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def has(self, key: str) -> bool:
        self.allowed.add(key)
        return key in self.data

    def _get(self, key: str, default: Any, accept: Any, problem: Problem) -> Any:
        self.allowed.add(key)
        if key not in self.data:
            if default is _REQUIRED:
                if not self.quiet:
                    self.ctx.error(self.where(key), Problem.MISSING_KEY)
                return None
            return default
        value = self.data[key]
        if (isinstance(value, bool) and accept is not bool) or not isinstance(value, accept):
            self.ctx.error(self.where(key), problem)
            return None
        return value

    def text(self, key: str, default: Any = _REQUIRED) -> str:
        value = self._get(key, default, str, Problem.EXPECTED_TEXT)
        return "" if value is None else value

    def boolean(self, key: str, default: Any = _REQUIRED) -> bool:
        value = self._get(key, default, bool, Problem.EXPECTED_BOOLEAN)
        return bool(value)

    def number(
        self,
        key: str,
        default: Any = _REQUIRED,
        minimum: Decimal | None = ZERO,
        maximum: Decimal | None = None,
    ) -> Decimal:
        value = self._get(key, default, (int, float), Problem.EXPECTED_NUMBER)
        if value is None:
            return ZERO
        number = value if isinstance(value, Decimal) else _dec(value)
        self._check_range(key, number, minimum, maximum)
        return number

    def integer(self, key: str, default: Any = _REQUIRED, minimum: int | None = 0) -> int:
        value = self._get(key, default, int, Problem.EXPECTED_INTEGER)
        if value is None:
            return 0
        self._check_range(key, value, minimum, None)
        return value

    def _check_range(self, key: str, value: Any, minimum: Any, maximum: Any) -> None:
        if minimum is not None and value < minimum:
            self.ctx.error(self.where(key), Problem.TOO_SMALL, minimum=minimum)
        if maximum is not None and value > maximum:
            self.ctx.error(self.where(key), Problem.TOO_LARGE, maximum=maximum)

    def choice(self, key: str, enum: type[E], default: Any = _REQUIRED) -> E:
        value = self._get(key, default, str, Problem.EXPECTED_TEXT)
        if value is None:
            return next(iter(enum))
        if isinstance(value, enum):
            return value
        return self.one_of(key, value, enum)

    def one_of(self, key: str, value: str, enum: type[E], allowed: Iterable[E] = ()) -> E:
        options = [e.value for e in (allowed or enum)]
        if value in options:
            return enum(value)
        self.ctx.error(
            self.where(key),
            Problem.NOT_ONE_OF,
            suggest(value, options),
            value=value,
            choices=", ".join(options),
        )
        return enum(options[0])

    def texts(self, key: str, default: Any = ()) -> tuple[str, ...]:
        value = self._get(key, default, (list, tuple), Problem.EXPECTED_LIST)
        if value is None:
            return ()
        if not all(isinstance(v, str) for v in value):
            self.ctx.error(self.where(key), Problem.EXPECTED_TEXT)
            return ()
        return tuple(value)

    def table(self, key: str, required: bool = False) -> _Table | None:
        value = self._get(key, _REQUIRED if required else None, dict, Problem.EXPECTED_TABLE)
        return None if value is None else _Table(self.ctx, value, self.where(key))

    def tables(self, key: str) -> list[_Table]:
        value = self._get(key, [], list, Problem.EXPECTED_LIST)
        out: list[_Table] = []
        for i, elem in enumerate(value or (), start=1):
            label = elem.get("key") if isinstance(elem, dict) else None
            path = self.where(f"{key}[{label if isinstance(label, str) else i}]")
            if not isinstance(elem, dict):
                self.ctx.error(path, Problem.EXPECTED_TABLE)
                continue
            out.append(_Table(self.ctx, elem, path))
        return out

    def close(self) -> None:
        """Report every key that no getter asked for."""
        for key in self.data:
            if key not in self.allowed:
                self.ctx.error(self.where(key), Problem.UNKNOWN_KEY, suggest(key, self.allowed))


# ---------------------------------------------------------------- one file


class Kind(StrEnum):
    FORTRESS = "fortress"
    VANGUARD = "vanguard"


class FilePart(StrEnum):
    COMMON = "common"
    DOMAIN = "domain"
    FEATURED = "featured"
    STARS = "stars"
    VARIANT = "variant"
    SHARED = "shared"  # items other files include; never composed on its own


_PARTS = {
    Kind.FORTRESS: (
        FilePart.COMMON,
        FilePart.DOMAIN,
        FilePart.FEATURED,
        FilePart.STARS,
        FilePart.SHARED,
    ),
    Kind.VANGUARD: (FilePart.COMMON, FilePart.VARIANT, FilePart.SHARED),
}
# Parts that may include shared files (the parts that come once per domain or category).
_INCLUDING = (FilePart.DOMAIN, FilePart.VARIANT)


@dataclass
class RubricFile:
    """One parsed file. Sections a part does not allow stay empty."""

    path: str
    kind: Kind
    part: FilePart
    version: str
    name_zh: str
    name_en: str
    domain: str = ""
    category: str = ""
    sections: dict[str, Any] = field(default_factory=dict)
    includes: tuple[str, ...] = ()  # shared files, relative to this one
    omit: tuple[str, ...] = ()  # keys of included items this file leaves out

    @property
    def source(self) -> SourceFile:
        return SourceFile(self.path, self.part.value, self.version, self.name_zh, self.name_en)


_LOCATORS: dict[str, Locator] = {}  # file → its key paths' lines, for errors found later


def read_file(path: str | Path) -> tuple[RubricFile | None, list[RubricError]]:
    """Parse and check one file on its own (references to other files are not checked)."""
    name = str(path)
    ctx = _Context(name)
    data = _load_toml(ctx, Path(path))
    if data is None:
        return None, ctx.errors
    parsed = _parse_file(ctx, _Table(ctx, data))
    if parsed is not None and parsed.includes:
        _include(ctx, parsed, Path(path), (Path(path).resolve(),))
    return parsed, place_errors(ctx.errors)


def _load_toml(ctx: _Context, path: Path) -> dict[str, Any] | None:
    """The file's TOML, or None with the problem recorded: missing, undecodable (with
    "save as UTF-8"), full-width punctuation (each one, with the fix), bad syntax."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        ctx.error("", Problem.NOT_FOUND)
        return None
    except OSError as exc:
        ctx.error("", Problem.TOML_SYNTAX, detail=exc.strerror or str(exc))
        return None
    try:
        text = decode(raw).text
    except UndecodableError as exc:
        ctx.error("", Problem.ENCODING, line=exc.line, column=exc.column)
        return None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        wide = full_width_outside_strings(text)
        for line, column, char in wide:
            ctx.errors.append(
                RubricError(
                    ctx.file,
                    "",
                    Problem.FULL_WIDTH,
                    {"char": char, "ascii": FULL_WIDTH[char]},
                    line=line,
                    column=column,
                )
            )
        if not wide:
            line, column = syntax_position(str(exc))
            detail = SYNTAX_AT.sub("", str(exc)).strip()
            ctx.errors.append(
                RubricError(
                    ctx.file, "", Problem.TOML_SYNTAX, {"detail": detail}, None, line, column
                )
            )
        return None
    _LOCATORS[ctx.file] = Locator.of(text)
    return data


def place_errors(errors: list[RubricError]) -> list[RubricError]:
    """Each error with the line of its key path, where the file spells it out."""
    out = []
    for e in errors:
        loc = _LOCATORS.get(e.file)
        if e.line is None and e.path and loc is not None:
            e = replace(e, line=loc.line_of(e.path))
        out.append(e)
    return out


def _parse_file(ctx: _Context, root: _Table) -> RubricFile | None:
    head = root.table("rubric", required=True)
    if head is None:
        root.close()
        return None
    kind = head.choice("kind", Kind)
    part = head.text("part")
    part_enum = head.one_of("part", part, FilePart, _PARTS[kind]) if part else FilePart.COMMON
    rf = RubricFile(
        ctx.file,
        kind,
        part_enum,
        head.text("version"),
        head.text("name_zh"),
        head.text("name_en"),
    )
    if part_enum is FilePart.DOMAIN:
        rf.domain = head.choice("domain", Domain).value
    if part_enum is FilePart.VARIANT:
        rf.category = head.choice("category", MemberCategory).value
    if part_enum in _INCLUDING:
        rf.includes = head.texts("include")
        rf.omit = head.texts("omit")
    head.close()
    parser = _FortressParser(rf, root) if kind is Kind.FORTRESS else _VanguardParser(rf, root)
    parser.parse()
    root.close()
    return rf


_SHARED_SECTIONS = ("items", "bonus", "deductions")


def _include(ctx: _Context, rf: RubricFile, path: Path, chain: tuple[Path, ...]) -> None:
    """Merge the shared files ``rf`` includes: its own items replace included items of
    the same key (defaults with per-category overrides); ``omit`` leaves some out."""
    included: dict[str, dict[str, Any]] = {s: {} for s in _SHARED_SECTIONS}
    for name in rf.includes:
        target = path.parent / name
        if target.resolve() in chain:
            ctx.error("rubric.include", Problem.INCLUDE_LOOP, name=name)
            continue
        sub = _Context(str(target))
        data = _load_toml(sub, target)
        if data is not None:
            root = _Table(sub, data)
            head = root.table("rubric", required=True) or _Table.stand_in(sub, "rubric")
            kind, part = head.text("kind"), head.text("part")
            head.text("version", "")
            head.text("name_zh", "")
            head.text("name_en", "")
            head.close()
            if kind != rf.kind.value or part != FilePart.SHARED.value:
                ctx.error("rubric.include", Problem.NOT_SHARED, name=name)
                continue
            shared = RubricFile(
                str(target),
                rf.kind,
                rf.part,
                rf.version,
                rf.name_zh,
                rf.name_en,
                domain=rf.domain,
                category=rf.category,
            )
            parser_class = _FortressParser if rf.kind is Kind.FORTRESS else _VanguardParser
            parser_class(shared, root).parse_shared()
            root.close()
            for section in _SHARED_SECTIONS:
                for item in shared.sections.get(section, ()):
                    included[section][item.key] = item
        ctx.errors.extend(sub.errors)
    every = {k for found in included.values() for k in found}
    for key in rf.omit:
        if key not in every:
            ctx.error("rubric.omit", Problem.NOT_INCLUDED, suggest(key, every), name=key)
    for section in _SHARED_SECTIONS:
        own = {item.key: item for item in rf.sections.get(section, ())}
        merged = [own.pop(k, item) for k, item in included[section].items() if k not in rf.omit]
        rf.sections[section] = (*merged, *own.values())


class _ItemParser:
    """Items, conditions and sheets: the constructs both indices share."""

    evidence_kinds: tuple[EvidenceKind, ...] = _BRANCH_EVIDENCE
    group_key = "dimension"

    def __init__(self, rf: RubricFile, root: _Table) -> None:
        self.rf = rf
        self.root = root

    def evidence(self, t: _Table, item_key: str) -> Evidence:
        kind = t.one_of("kind", t.text("kind"), EvidenceKind, self.evidence_kinds)
        meeting_based = kind in (
            EvidenceKind.MEETINGS,
            EvidenceKind.ATTENDANCE,
            EvidenceKind.MONTHS_WITHOUT,
        )
        if meeting_based:
            key = t.choice("meeting", MeetingKind).value
            quorum_only = kind is not EvidenceKind.ATTENDANCE and t.boolean("quorum_only", True)
            return Evidence(kind, key, quorum_only=quorum_only)
        if kind in (EvidenceKind.TASK, EvidenceKind.GRADE):
            return Evidence(kind, t.text("key", item_key))
        key = t.text("key")
        den = t.text("of") if kind is EvidenceKind.RATIO else ""
        return Evidence(kind, key, den)

    def rule(self, t: _Table, evidence: Evidence, sheet: Part | None) -> Rule:
        kind = t.choice("rule", RuleKind)
        bad_pair = (kind is RuleKind.BY_GRADE) != (evidence.kind is EvidenceKind.GRADE)
        bad_sheet = (kind is RuleKind.DEDUCTION) != (sheet is Part.DEDUCTION)
        # Fewer meetings must never earn more, so months_without only feeds deductions.
        bad_months = evidence.kind is EvidenceKind.MONTHS_WITHOUT and sheet is not Part.DEDUCTION
        if bad_pair or bad_sheet or bad_months:
            t.ctx.error(
                t.where("rule"), Problem.INCOMPATIBLE, rule=kind.value, evidence=evidence.kind.value
            )
        if kind is RuleKind.DONE:
            return Rule(kind, t.number("points"), at_least=t.number("at_least", ONE))
        if kind is RuleKind.DEDUCTION and t.has("at_least"):
            # Triggered by reaching a count: "absent from 4 or more meetings → −5", once.
            points = t.number("points")
            cap = t.number("cap", points)
            if cap != points:
                t.ctx.error(t.where("cap"), Problem.CAP_BELOW_POINTS, cap=cap, points=points)
            return Rule(kind, points, cap=points, at_least=t.number("at_least"), once=True)
        if kind in (RuleKind.PER_EVENT, RuleKind.DEDUCTION):
            points = t.number("points")
            cap = t.number("cap")
            if cap < points:
                t.ctx.error(t.where("cap"), Problem.CAP_BELOW_POINTS, cap=cap, points=points)
            return Rule(kind, points, cap=cap)
        if kind is RuleKind.PROPORTIONAL:
            full_at = t.number("full_at", ONE)
            if full_at <= 0:
                t.ctx.error(t.where("full_at"), Problem.TOO_SMALL, minimum="0.01")
            return Rule(kind, t.number("points"), full_at=full_at or ONE)
        if kind is RuleKind.LADDER:
            return Rule(kind, steps=self.steps(t))
        grades = t.table("grades", required=True)
        pairs: tuple[tuple[str, Decimal], ...] = ()
        if grades is not None:
            pairs = tuple((label, grades.number(label)) for label in list(grades.data))
        return Rule(kind, grades=pairs or (("", ZERO),))

    def steps(self, t: _Table) -> tuple[tuple[Decimal, Decimal], ...]:
        t.allowed.add("steps")
        raw = t.data.get("steps")
        ok = (
            isinstance(raw, list)
            and raw
            and all(
                isinstance(s, list)
                and len(s) == 2
                and all(isinstance(x, int | float) and not isinstance(x, bool) for x in s)
                for s in raw
            )
        )
        if not ok:
            t.ctx.error(t.where("steps"), Problem.EXPECTED_LIST if raw else Problem.MISSING_KEY)
            return ((ZERO, ZERO),)
        steps = tuple((_dec(a), _dec(p)) for a, p in raw)
        ordered = all(a1 > a2 and p1 >= p2 for (a1, p1), (a2, p2) in itertools.pairwise(steps))
        if not ordered or any(p < 0 for _, p in steps):
            t.ctx.error(t.where("steps"), Problem.STEPS_ORDER)
        return steps

    def names(self, t: _Table) -> tuple[str, str, str]:
        return t.text("key"), t.text("name_zh"), t.text("name_en")

    def domains(self, t: _Table) -> frozenset[str] | None:
        """Domain files apply to their domain; common items may name some domains."""
        if self.rf.part is FilePart.DOMAIN:
            return frozenset({self.rf.domain})
        if self.rf.part is not FilePart.COMMON or not t.has("applies"):
            return None
        raw = t.data["applies"]
        if raw == "all":
            return None
        if not isinstance(raw, list):
            t.ctx.error(t.where("applies"), Problem.EXPECTED_LIST)
            return None
        return frozenset(t.one_of("applies", str(d), Domain).value for d in raw)

    def period(self, t: _Table) -> Period:
        return t.choice("period", Period)

    def item(self, t: _Table, part: Part) -> Item:
        key, name_zh, name_en = self.names(t)
        group = t.text(self.group_key) if part not in (Part.BONUS, Part.DEDUCTION) else ""
        period = self.period(t)
        domains = self.domains(t)
        ev_t = t.table("evidence", required=True)
        evidence = self.evidence(ev_t, key) if ev_t else Evidence(EvidenceKind.TASK, key)
        score_t = t.table("score", required=True)
        sheet = part if part in (Part.BONUS, Part.DEDUCTION) else None
        rule = self.rule(score_t, evidence, sheet) if score_t else Rule(RuleKind.DONE)
        for sub in (ev_t, score_t, t):
            if sub is not None:
                sub.close()
        return Item(
            key, name_zh, name_en, part, group, period, evidence, rule, domains, self.rf.path
        )

    def items(self, key: str, part: Part) -> tuple[Item, ...]:
        return tuple(self.item(t, part) for t in self.root.tables(key))

    def condition(self, t: _Table | None) -> Condition:
        if t is None:
            return Condition(Evidence(EvidenceKind.FLAG, ""), at_least=ONE)
        evidence = self.evidence(t, "")
        below = t.number("below", None) if t.has("below") else None
        at_least = t.number("at_least", None) if t.has("at_least") else None
        t.close()
        if below is None and at_least is None:
            at_least = ONE
        return Condition(evidence, below, at_least)

    def clause(self, t: _Table) -> tuple[str, str, str, Period, Condition, frozenset | None]:
        """What vetoes and zeroing clauses share: names, period, condition, domains."""
        key, name_zh, name_en = self.names(t)
        period = self.period(t)
        domains = self.domains(t)
        return (
            key,
            name_zh,
            name_en,
            period,
            self.condition(t.table("when", required=True)),
            domains,
        )

    def zeroing(self) -> tuple[Zeroing, ...]:
        out = []
        for t in self.root.tables("zeroing"):
            key, name_zh, name_en, period, when, domains = self.clause(t)
            target = t.choice("target", ZeroTarget)
            target_key = t.text("target_key") if target is not ZeroTarget.TOTAL else ""
            t.close()
            out.append(
                Zeroing(
                    key, name_zh, name_en, period, when, target, target_key, domains, self.rf.path
                )
            )
        return tuple(out)

    def named(self, key: str) -> tuple[Named, ...]:
        out = []
        for t in self.root.tables(key):
            out.append(Named(*self.names(t)))
            t.close()
        return tuple(out)


class _FortressParser(_ItemParser):
    def parse(self) -> None:
        rf, s = self.rf, self.rf.sections
        if rf.part is FilePart.STARS:
            self.stars()
            return
        s["data"] = self.named("data")
        if rf.part is FilePart.SHARED:
            self.parse_shared()
            return
        s["items"] = self.items("items", _ITEM_PART[rf.part])
        if rf.part is FilePart.FEATURED:
            return
        s["bonus"] = self.items("bonus", Part.BONUS)
        s["deductions"] = self.items("deductions", Part.DEDUCTION)
        s["vetoes"] = self.vetoes()
        s["zeroing"] = self.zeroing()
        if rf.part is FilePart.COMMON:
            self.common()

    def parse_shared(self) -> None:
        s = self.rf.sections
        s["items"] = self.items("items", Part.DOMAIN)
        s["bonus"] = self.items("bonus", Part.BONUS)
        s["deductions"] = self.items("deductions", Part.DEDUCTION)

    def common(self) -> None:
        s, root = self.rf.sections, self.root
        total = root.table("total", required=True) or _Table.stand_in(root.ctx, "total")
        s["max_points"] = total.number("max_points")
        # A deduction sheet (扣分制) has no scored parts: they default to 0.
        for key in ("common_points", "domain_points", "featured_points"):
            s[key] = total.number(key, ZERO)
        s["bonus_cap"] = total.number("bonus_cap", ZERO)
        s["deduction_cap"] = total.number("deduction_cap", ZERO)
        s["base_points"] = total.number("base_points", ZERO)
        total.close()
        s["dimensions"] = self.named("dimensions")
        quorum = root.table("quorum")
        s["quorum"] = {}
        if quorum is not None:
            for kind in list(quorum.data):
                share = quorum.number(kind, maximum=ONE)
                s["quorum"][quorum.one_of(kind, kind, MeetingKind).value] = share
        s["effort"] = self.effort(root.table("effort"))

    def effort(self, t: _Table | None) -> Effort:
        if t is None:
            return Effort()
        default = t.integer("default", 1, minimum=1)
        tables = {}
        for key in ("meetings", "events", "tasks"):
            sub = t.table(key)
            tables[key] = {k: sub.integer(k, minimum=1) for k in list(sub.data)} if sub else {}
            if key == "meetings" and sub:
                for k in tables[key]:
                    sub.one_of(k, k, MeetingKind)
        t.close()
        return Effort(default, tables["meetings"], tables["events"], tables["tasks"])

    def vetoes(self) -> tuple[Veto, ...]:
        out = []
        for t in self.root.tables("vetoes"):
            key, name_zh, name_en, period, when, domains = self.clause(t)
            effect = t.choice("effect", VetoEffect)
            level = t.integer("level", minimum=1) if effect is VetoEffect.CAP else 1
            t.close()
            out.append(
                Veto(key, name_zh, name_en, period, when, effect, level, domains, self.rf.path)
            )
        return tuple(out)

    def stars(self) -> None:
        s, root = self.rf.sections, self.root
        s["schemes"] = tuple(self.scheme(t) for t in root.tables("schemes"))
        s["default_scheme"] = root.text("default_scheme")
        comp = root.table("compliance", required=True) or _Table.stand_in(root.ctx, "compliance")
        s["compliance"] = Compliance(
            comp.number("min_points"),
            comp.integer("min_stars", 0),
            comp.boolean("veto_fails", True),
        )
        comp.close()

    def scheme(self, t: _Table) -> StarScheme:
        key, name_zh, name_en = self.names(t)
        method = t.choice("method", StarMethod)
        period = self.period(t)
        quota = method is StarMethod.QUOTA
        ties = t.choice("ties", TieRule, TieRule.LOWER.value) if quota else None
        levels, shares = [], []
        for lt in t.tables("levels"):
            stars = lt.integer("stars", minimum=1)
            names = lt.text("name_zh"), lt.text("name_en")
            # A quota scheme's top levels have shares; the rest may have points
            # ("top 15% five stars, next 35% four; of the rest, ≥ 70 three stars…").
            share = None
            if quota and (lt.has("share") or not lt.has("min_points")):
                share = lt.number("share")
                if share > ONE:
                    lt.ctx.error(
                        lt.where("share"),
                        Problem.SHARE_PERCENT,
                        value=_num(share),
                        fraction=_num(share / 100),
                    )
                shares.append((stars, share))
            if share is not None:
                # A quota place is given by rank alone: conditions here would be ignored,
                # so they are left unread and reported as unknown keys.
                levels.append(StarLevel(stars, *names, share=share))
            else:
                levels.append(
                    StarLevel(
                        stars,
                        *names,
                        min_points=lt.number("min_points"),
                        featured_done=lt.integer("featured_done", 0),
                        items_full=lt.texts("items_full"),
                        no_veto=lt.boolean("no_veto", False),
                    )
                )
            lt.close()
        t.close()
        self.check_levels(t, method, levels, shares)
        return StarScheme(
            key,
            name_zh,
            name_en,
            method,
            period,
            tuple(levels),
            tuple(shares),
            ties or TieRule.LOWER,
        )

    def check_levels(self, t: _Table, method: StarMethod, levels: list, shares: list) -> None:
        if not levels:
            t.ctx.error(t.where("levels"), Problem.MISSING_KEY)
            return

        def where(level: StarLevel) -> str:
            return t.where(f"levels[{levels.index(level) + 1}]")

        def label(level: StarLevel) -> str:  # the same in both languages
            return "★" * level.stars

        for a, b in itertools.pairwise(levels):
            if a.stars <= b.stars:
                t.ctx.error(where(b), Problem.LEVEL_ORDER, level=label(b), after=label(a))
        present = {lv.stars for lv in levels}
        best, lowest = max(present), min(present)
        for stars in range(best - 1, lowest, -1):
            if stars not in present:
                t.ctx.error(
                    t.where("levels"), Problem.LEVEL_MISSING, stars=stars, best=best, lowest=lowest
                )
        by_points = [lv for lv in levels if lv.share is None]
        if method is StarMethod.QUOTA:
            seen_points = False
            for lv in levels:
                if lv.share is None:
                    seen_points = True
                elif seen_points:
                    t.ctx.error(where(lv), Problem.QUOTA_AFTER_THRESHOLD, level=label(lv))
        for a, b in itertools.pairwise(by_points):
            if a.stars > b.stars and a.min_points <= b.min_points:
                t.ctx.error(
                    where(a),
                    Problem.LEVELS_OVERLAP,
                    upper=label(a),
                    upper_points=_num(a.min_points),
                    lower=label(b),
                    lower_points=_num(b.min_points),
                )
        if by_points and by_points[-1].min_points != 0:
            t.ctx.error(where(by_points[-1]), Problem.LOWEST_LEVEL)
        total = sum((s for _, s in shares), ZERO)
        if method is StarMethod.QUOTA and all(s <= ONE for _, s in shares):
            if not by_points and total != ONE:
                t.ctx.error(t.where("levels"), Problem.SHARES_SUM, actual=_num(total))
            elif by_points and total > ONE:
                t.ctx.error(t.where("levels"), Problem.SHARES_OVER, actual=_num(total))


def _num(value: Decimal) -> str:
    """A number as an official wrote it: 0.10 → "0.1", 15.0 → "15"."""
    return format(value.normalize(), "f")


_ITEM_PART = {
    FilePart.COMMON: Part.COMMON,
    FilePart.DOMAIN: Part.DOMAIN,
    FilePart.FEATURED: Part.FEATURED,
    FilePart.VARIANT: Part.VARIANT,
}


class _VanguardParser(_ItemParser):
    evidence_kinds = _MEMBER_EVIDENCE
    group_key = "subindex"

    def period(self, t: _Table) -> Period:
        # A member is scored once per evaluation period; items have no period of their own.
        return Period.YEAR

    def parse_shared(self) -> None:
        s = self.rf.sections
        s["items"] = self.items("items", Part.VARIANT)
        s["bonus"] = self.items("bonus", Part.BONUS)
        s["deductions"] = self.items("deductions", Part.DEDUCTION)

    def parse(self) -> None:
        s = self.rf.sections
        s["data"] = self.named("data")
        if self.rf.part in (FilePart.VARIANT, FilePart.SHARED):
            s["items"] = self.items("items", Part.VARIANT)
        s["bonus"] = self.items("bonus", Part.BONUS)
        s["deductions"] = self.items("deductions", Part.DEDUCTION)
        if self.rf.part is FilePart.COMMON:
            self.common()

    def common(self) -> None:
        s, root = self.rf.sections, self.root
        s["period"] = root.choice("period", Period, Period.YEAR.value)
        s["subindices"] = []
        s["subindex_max"] = {}
        for t in root.tables("subindices"):
            named = Named(*self.names(t))
            s["subindices"].append(named)
            s["subindex_max"][named.key] = t.number("max_points")
            t.close()
        s["zeroing"] = self.zeroing()
        total = root.table("total") or _Table.stand_in(root.ctx, "total")
        # The rubric's own scale (a 40-point member rubric says 40), and for a deduction
        # sheet (扣分制) the score every member starts from instead of combined parts.
        s["max_points"] = total.number("max_points", Decimal(100), minimum=ONE)
        s["base_points"] = None
        if total.has("base_points"):
            s["base_points"] = total.number("base_points", maximum=s["max_points"])
        s["bonus_cap"] = total.number("bonus_cap", ZERO)
        s["deduction_cap"] = total.number("deduction_cap", ZERO)
        total.close()
        if s["base_points"] is None:
            self.combine(
                root.table("combine", required=True) or _Table.stand_in(root.ctx, "combine")
            )
        else:
            s["weights"], s["missing"] = (), MissingPart.ZERO
        s["vote_options"] = tuple(self.vote_option(t) for t in root.tables("vote_options"))
        s["grades"] = self.grades(root.tables("grades"), s["max_points"])
        s["hard_rules"] = tuple(self.hard_rule(t) for t in root.tables("hard_rules"))
        s["excellent_cap"] = self.excellent_cap(
            root.table("excellent_cap", required=True) or _Table.stand_in(root.ctx, "excellent_cap")
        )

    def combine(self, t: _Table) -> None:
        weights = tuple((p, t.number(p.value, ZERO, maximum=ONE)) for p in VanguardPart)
        total = sum((w for _, w in weights), ZERO)
        if total != ONE:
            t.ctx.error(t.path, Problem.WEIGHTS_SUM, actual=total)
        self.rf.sections["weights"] = tuple((p, w) for p, w in weights if w)
        self.rf.sections["missing"] = t.choice("missing", MissingPart, MissingPart.ZERO.value)
        t.close()

    def vote_option(self, t: _Table) -> VoteOption:
        option = VoteOption(*self.names(t), t.number("value", maximum=Decimal(100)))
        t.close()
        return option

    def grades(self, tables: list[_Table], maximum: Decimal) -> tuple[tuple[Grade, Decimal], ...]:
        """Any of the four grades, best first (优秀/合格/不合格, or with 基本合格);
        each problem names the grade it is about."""
        out: list[tuple[Grade, Decimal]] = []
        for t in tables:
            grade = Grade.from_key(t.one_of("grade", t.text("grade"), _GradeKey).value)
            points = t.number("min_points", maximum=maximum)
            if any(g is grade for g, _ in out):
                t.ctx.error(t.where("grade"), Problem.BAND_TWICE, grade=grade.key)
            else:
                if out and out[-1][0] < grade:
                    t.ctx.error(
                        t.where("grade"), Problem.BAND_ORDER, grade=grade.key, after=out[-1][0].key
                    )
                elif out and out[-1][1] <= points:
                    t.ctx.error(
                        t.where("min_points"),
                        Problem.BANDS_OVERLAP,
                        upper=out[-1][0].key,
                        upper_points=_num(out[-1][1]),
                        lower=grade.key,
                        lower_points=_num(points),
                    )
                out.append((grade, points))
            t.close()
        ctx = self.root.ctx
        for needed in (Grade.QUALIFIED, Grade.UNQUALIFIED):
            # "Qualified" is where a member over the excellent cap goes; "unqualified"
            # is where the hard rules and the lowest scores go.
            if not any(g is needed for g, _ in out):
                ctx.error("grades", Problem.BAND_MISSING, grade=needed.key)
        if out and out[-1][1] != 0:
            ctx.error(
                f"grades[{len(tables)}].min_points", Problem.BAND_LOWEST, grade=out[-1][0].key
            )
        out.sort(key=lambda pair: -pair[0])
        return tuple(out)

    def hard_rule(self, t: _Table) -> HardRule:
        key, name_zh, name_en = self.names(t)
        when = self.condition(t.table("when", required=True))
        grade = Grade.from_key(t.one_of("max_grade", t.text("max_grade"), _GradeKey).value)
        if all(g is not grade for g, _ in self.rf.sections.get("grades", ())):
            t.ctx.error(t.where("max_grade"), Problem.BAND_MISSING, grade=grade.key)
        t.close()
        return HardRule(key, name_zh, name_en, when, grade)

    def excellent_cap(self, t: _Table) -> ExcellentCap:
        cap = ExcellentCap(
            t.number("share", maximum=ONE),
            t.one_of("rounding", t.text("rounding", "floor"), _Rounding).value,
            t.integer("minimum", 0),
            tuple(t.one_of("tie_break", v, _TieBreak).value for v in t.texts("tie_break", ())),
        )
        t.close()
        return cap


class _GradeKey(StrEnum):
    EXCELLENT = "excellent"
    QUALIFIED = "qualified"
    BASICALLY_QUALIFIED = "basically_qualified"
    UNQUALIFIED = "unqualified"


class _Rounding(StrEnum):
    FLOOR = "floor"
    HALF_UP = "half_up"
    CEIL = "ceil"


class _TieBreak(StrEnum):
    VOTE = "vote"
    REVIEW = "review"
    SELF = "self"
    INDICES = "indices"


# ---------------------------------------------------------------- composing


def rubric_paths(paths_or_dir: str | Path | Iterable[str | Path] | None, kind: Kind) -> list[Path]:
    """Files to load: the shipped ones by default; a directory means all its ``*.toml``.

    A directory that has a ``fortress``/``vanguard`` sub-folder is read from there, so
    a city can point at one folder laid out like ``scoring/rubrics``.
    """
    if paths_or_dir is None:
        paths_or_dir = RUBRICS_DIR
    if isinstance(paths_or_dir, str | Path):
        path = Path(paths_or_dir)
        if path.is_dir():
            if (path / kind.value).is_dir():
                path = path / kind.value
            return sorted(path.glob("*.toml"))
        return [path]
    return [Path(p) for p in paths_or_dir]


def check_files(paths: Iterable[str | Path]) -> list[RubricError]:
    """Every problem in these files: each file alone, then each kind composed."""
    errors: list[RubricError] = []
    by_kind: dict[Kind, list[RubricFile]] = {Kind.FORTRESS: [], Kind.VANGUARD: []}
    for path in paths:
        parsed, errs = read_file(path)
        errors.extend(errs)
        if parsed is not None:
            by_kind[parsed.kind].append(parsed)
    if errors:
        return errors
    for kind, files in by_kind.items():
        if files and _is_complete_set(kind, files):
            errors.extend(_compose(kind, files)[1])
    return place_errors(errors)


def _is_complete_set(kind: Kind, files: list[RubricFile]) -> bool:
    # A lone domain or featured file can be checked on its own; composition needs the
    # common part (and the stars part for the Fortress Index).
    parts = {f.part for f in files}
    needed = {FilePart.COMMON, FilePart.STARS} if kind is Kind.FORTRESS else {FilePart.COMMON}
    return bool(parts & needed)


def load_files(paths: Iterable[str | Path], kind: Kind) -> FortressRubric | VanguardRubric:
    files, errors = [], []
    for path in paths:
        parsed, errs = read_file(path)
        errors.extend(errs)
        if parsed is None:
            continue
        if parsed.kind is not kind:
            errors.append(
                RubricError(
                    parsed.path,
                    "rubric.kind",
                    Problem.WRONG_KIND,
                    {"kind": parsed.kind.value, "expected": kind.value},
                )
            )
            continue
        files.append(parsed)
    if errors:
        raise RubricInvalid(errors)
    rubric, errors = _compose(kind, files)
    if errors or rubric is None:
        raise RubricInvalid(place_errors(errors))
    return rubric


def _compose(kind: Kind, files: list[RubricFile]) -> tuple[Any, list[RubricError]]:
    composer = _FortressComposer(files) if kind is Kind.FORTRESS else _VanguardComposer(files)
    rubric = composer.compose()
    return (None if composer.errors else rubric), composer.errors


class _Composer:
    def __init__(self, files: list[RubricFile]) -> None:
        # Shared files are material for the files that include them, not parts.
        self.files = [f for f in files if f.part is not FilePart.SHARED]
        self.errors: list[RubricError] = []

    def error(self, file: str, path: str, problem: Problem, suggestion=None, **args) -> None:
        self.errors.append(RubricError(file, path, problem, args, suggestion))

    def single(self, part: FilePart) -> RubricFile | None:
        found = [f for f in self.files if f.part is part]
        for extra in found[1:]:
            self.error(
                extra.path, "rubric.part", Problem.DUPLICATE, key=part.value, first=found[0].path
            )
        if not found:
            where = self.files[0].path if self.files else "-"
            self.error(where, "", Problem.MISSING_PART, part=part.value)
            return None
        return found[0]

    def one_each(self, part: FilePart, attr: str, expected: Iterable[str], where: str):
        """The files of ``part`` by domain/category: duplicates and gaps are errors."""
        found: dict[str, RubricFile] = {}
        for f in self.files:
            if f.part is not part:
                continue
            value = getattr(f, attr)
            if value in found:
                self.error(
                    f.path, f"rubric.{attr}", Problem.DUPLICATE, key=value, first=found[value].path
                )
                continue
            found[value] = f
        for value in expected:
            if value not in found:
                self.error(where, "", Problem.MISSING_PART, part=f"{part.value} {value}")
        return found

    def unique(self, things: Iterable[Any], section: str, seen: dict[str, str]) -> None:
        """Keys are one namespace: items, sheets, vetoes and clauses, across files."""
        for thing in things:
            if thing.key in seen:
                self.error(
                    thing.source,
                    f"{section}[{thing.key}]",
                    Problem.DUPLICATE,
                    key=thing.key,
                    first=seen[thing.key],
                )
            else:
                seen[thing.key] = thing.source

    def reference(self, source: str, path: str, name: str, known: Iterable[str]) -> None:
        known = list(known)
        if name not in known:
            self.error(source, path, Problem.UNKNOWN_REFERENCE, suggest(name, known), name=name)

    def sum_check(self, source: str, path: str, items: Iterable[Item], declared: Decimal) -> None:
        actual = sum((i.max_points for i in items), ZERO)
        if actual != declared:
            self.error(source, path, Problem.SUM_MISMATCH, actual=actual, declared=declared)

    def zeroing_refs(self, clauses: Iterable[Zeroing], groups: list[str], items: list[str]):
        for z in clauses:
            if z.target is ZeroTarget.TOTAL:
                continue
            known = groups if z.target is ZeroTarget.DIMENSION else items
            self.reference(z.source, f"zeroing[{z.key}].target_key", z.target_key, known)

    def data(self) -> tuple[Named, ...]:
        """The names of data keys, from every file (the first naming wins)."""
        found: dict[str, Named] = {}
        for named in self.gather("data"):
            found.setdefault(named.key, named)
        return tuple(found.values())

    def gather(self, section: str) -> tuple[Any, ...]:
        return tuple(x for f in self.files for x in f.sections.get(section, ()))


class _FortressComposer(_Composer):
    def compose(self) -> FortressRubric | None:
        common = self.single(FilePart.COMMON)
        stars = self.single(FilePart.STARS)
        where = common.path if common else (self.files[0].path if self.files else "-")
        # Without domain points (a deduction sheet, or common items only) the domain
        # files are optional; each given one still counts.
        needed = not common or common.sections.get("domain_points", ZERO) > 0
        self.one_each(FilePart.DOMAIN, "domain", [d.value for d in Domain] if needed else [], where)
        if common is None or stars is None:
            return None
        c, s = common.sections, stars.sections
        items, bonus, deds = self.gather("items"), self.gather("bonus"), self.gather("deductions")
        vetoes, zeroing = self.gather("vetoes"), self.gather("zeroing")
        seen: dict[str, str] = {}
        for section, things in (
            ("items", items),
            ("bonus", bonus),
            ("deductions", deds),
            ("vetoes", vetoes),
            ("zeroing", zeroing),
        ):
            self.unique(things, section, seen)
        dims = [d.key for d in c["dimensions"]]
        for item in items:
            self.reference(item.source, f"items[{item.key}].dimension", item.dimension, dims)
        self.zeroing_refs(zeroing, dims, [i.key for i in (*items, *bonus, *deds)])
        self.totals(common, items)
        schemes = {sc.key: sc for sc in s["schemes"]}
        self.stars_refs(stars, schemes, [i.key for i in items], vetoes)
        return FortressRubric(
            version=common.version,
            name_zh=common.name_zh,
            name_en=common.name_en,
            max_points=c["max_points"],
            common_points=c["common_points"],
            domain_points=c["domain_points"],
            featured_cap=c["featured_points"],
            bonus_cap=c["bonus_cap"],
            deduction_cap=c["deduction_cap"],
            dimensions=c["dimensions"],
            items=items,
            bonus=bonus,
            deductions=deds,
            vetoes=vetoes,
            zeroing=zeroing,
            quorum=c["quorum"],
            schemes=schemes,
            default_scheme=s["default_scheme"],
            compliance=s["compliance"],
            effort=c["effort"],
            sources=tuple(f.source for f in self.files),
            base_points=c["base_points"],
            data=self.data(),
        )

    def totals(self, common: RubricFile, items: tuple[Item, ...]) -> None:
        c = common.sections
        self.sum_check(
            common.path,
            "total.common_points",
            (i for i in items if i.part is Part.COMMON),
            c["common_points"],
        )
        for f in self.files:
            if f.part is FilePart.DOMAIN:
                self.sum_check(f.path, "items", f.sections["items"], c["domain_points"])
        parts = c["common_points"] + c["domain_points"] + c["featured_points"] + c["base_points"]
        if parts != c["max_points"]:
            self.error(
                common.path,
                "total.max_points",
                Problem.SUM_MISMATCH,
                actual=parts,
                declared=c["max_points"],
            )
        for item in items:
            if item.part is Part.FEATURED and item.max_points > c["featured_points"]:
                self.error(
                    item.source,
                    f"items[{item.key}].score",
                    Problem.TOO_LARGE,
                    maximum=c["featured_points"],
                )

    def stars_refs(self, stars: RubricFile, schemes: dict, items: list[str], vetoes) -> None:
        s = stars.sections
        self.reference(stars.path, "default_scheme", s["default_scheme"], schemes)
        best = max((lv.stars for sc in schemes.values() for lv in sc.levels), default=1)
        for sc in schemes.values():
            for lv in sc.levels:
                for key in lv.items_full:
                    self.reference(stars.path, f"schemes[{sc.key}].levels.items_full", key, items)
        for v in vetoes:
            if v.level > best:
                self.error(v.source, f"vetoes[{v.key}].level", Problem.TOO_LARGE, maximum=best)
        default = schemes.get(s["default_scheme"])
        if s["compliance"].min_stars and default and default.method is StarMethod.QUOTA:
            self.error(
                stars.path, "compliance.min_stars", Problem.NEEDS_THRESHOLD, scheme=default.key
            )


class _VanguardComposer(_Composer):
    def compose(self) -> VanguardRubric | None:
        common = self.single(FilePart.COMMON)
        if common is None:
            return None
        c = common.sections
        bonus, deds = c["bonus"], c["deductions"]
        common_keys: dict[str, str] = {}
        self.unique((*bonus, *deds, *c["zeroing"]), "common", common_keys)
        groups = [n.key for n in c["subindices"]]
        # A deduction sheet needs no category files: a category without one is scored
        # by the common sheet alone.
        base = c["base_points"] is not None
        categories = [m.value for m in MemberCategory]
        files = self.one_each(FilePart.VARIANT, "category", [] if base else categories, common.path)
        # Variants are separate namespaces: each member is scored by one variant only.
        variants = {cat: self.variant(f, c, groups, dict(common_keys)) for cat, f in files.items()}
        for cat in categories:
            variants.setdefault(cat, Variant(cat, common.name_zh, common.name_en, ()))
        all_items = [
            i.key
            for f in self.files
            for s in ("items", "bonus", "deductions")
            for i in f.sections.get(s, ())
        ]
        self.zeroing_refs(c["zeroing"], groups, all_items)
        return VanguardRubric(
            version=common.version,
            name_zh=common.name_zh,
            name_en=common.name_en,
            period=c["period"],
            subindices=tuple(c["subindices"]),
            subindex_max=c["subindex_max"],
            variants=variants,
            weights=c["weights"],
            missing=c["missing"],
            vote_options=c["vote_options"],
            bonus=bonus,
            deductions=deds,
            bonus_cap=c["bonus_cap"],
            deduction_cap=c["deduction_cap"],
            zeroing=c["zeroing"],
            hard_rules=c["hard_rules"],
            grades=c["grades"],
            excellent_cap=c["excellent_cap"],
            sources=tuple(f.source for f in self.files),
            max_points=c["max_points"],
            base_points=c["base_points"],
            data=self.data(),
        )

    def variant(self, f: RubricFile, c: dict, groups: list[str], seen: dict) -> Variant:
        s = f.sections
        self.unique((*s["items"], *s["bonus"], *s["deductions"]), "items", seen)
        for item in s["items"]:
            self.reference(f.path, f"items[{item.key}].subindex", item.dimension, groups)
        for key, declared in c["subindex_max"].items():
            self.sum_check(
                f.path, f"subindex {key}", (i for i in s["items"] if i.dimension == key), declared
            )
        return Variant(f.category, f.name_zh, f.name_en, s["items"], s["bonus"], s["deductions"])


def load_fortress_rubric(paths_or_dir: Any = None) -> FortressRubric:
    """The Fortress Index rubric from files (default: the shipped rubrics).

    Raises ``RubricInvalid`` listing every problem.
    """
    rubric = load_files(rubric_paths(paths_or_dir, Kind.FORTRESS), Kind.FORTRESS)
    assert isinstance(rubric, FortressRubric)
    return rubric


def load_vanguard_rubric(paths_or_dir: Any = None) -> VanguardRubric:
    """The Vanguard Index rubric from files (default: the shipped rubrics)."""
    rubric = load_files(rubric_paths(paths_or_dir, Kind.VANGUARD), Kind.VANGUARD)
    assert isinstance(rubric, VanguardRubric)
    return rubric
