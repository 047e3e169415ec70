"""`rubric try`: a made-up branch or member, written as a small TOML file, scored with
a rubric, and the result explained line by line (what each item read and earned, the
caps, vetoes, conditions of the star levels, the grade).

A branch::

    kind = "branch"
    domain = "village"            # village | community | agency | two_new
    month = "2026-12"             # the scored month
    featured = ["featured_brand"] # featured items chosen

    [[meetings]]
    kind = "committee"            # committee | group | general | lesson | theme_day | org_life
    months = ["2026-01", "2026-02"]   # one meeting in each month listed
    attended = 9                  # default: all of expected
    expected = 10

    [events]                      # a count in the scored month, or per month
    volunteer_events = 2
    dues_late_months = { "2026-03" = 1, "2026-04" = 1 }

    [tasks]                       # the same for tasks and flags
    featured_brand = 1

    [grades]
    model_showcase = "A"

A member::

    kind = "member"
    category = "agency"           # rural_community | agency | two_new | mobile
    self = 90                     # self-assessment, 0–100 (leave out: not given)
    review = 85                   # branch review, 0–100
    ballots = { excellent = 20, qualified = 5 }
    [events]                      # totals for the year
    theme_days_attended = 10
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from bot.cli.rubric_doc import Doc, Row
from bot.cli.rubric_view import Names, grade_names, name_of, num, part_names, rule_text
from scoring import (
    BranchFacts,
    FortressRubric,
    Meeting,
    MemberFacts,
    VanguardRubric,
    score_branch,
    score_member,
)
from scoring.errors import N_
from scoring.model import Domain, MeetingKind, MemberCategory, Part
from scoring.periods import parse_month
from scoring.source import UndecodableError, decode, full_width_outside_strings

Gettext = Callable[[str], str]


class FactsError(ValueError):
    def __init__(self, message: str, **args: Any) -> None:
        self.message = message
        self.args_ = args
        super().__init__(message.format(**args))

    @property
    def args(self) -> dict[str, Any]:  # type: ignore[override]
        return self.args_


@dataclass
class MadeUp:
    kind: str  # branch | member
    data: dict[str, Any] = field(default_factory=dict)


def read_facts(path: Path) -> MadeUp:
    try:
        raw = path.read_bytes()
    except OSError:
        raise FactsError(N_("file not found")) from None
    try:
        text = decode(raw).text
    except UndecodableError as exc:
        raise FactsError(
            N_(
                "the file is not UTF-8 text (first unreadable byte at line {line}, "
                "column {column}): open it in your editor and save it as UTF-8"
            ),
            line=exc.line,
            column=exc.column,
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        wide = full_width_outside_strings(text)
        if wide:
            line, column, char = wide[0]
            raise FactsError(
                N_("line {line}, column {column}: Chinese full-width '{char}' outside quotes"),
                line=line,
                column=column,
                char=char,
            ) from None
        raise FactsError(N_("not valid TOML: {detail}"), detail=str(exc)) from None
    kind = data.get("kind")
    if kind not in ("branch", "member"):
        raise FactsError(N_('"kind" must be "branch" or "member"'))
    return MadeUp(kind, data)


def _counts(data: dict, key: str, month: str | None) -> dict[str, Any]:
    table = data.get(key, {})
    if not isinstance(table, dict):
        raise FactsError(N_("[{table}] must be a table of counts"), table=key)
    out: dict[str, Any] = {}
    for name, value in table.items():
        if month is not None and isinstance(value, dict):
            out[name] = {m: _whole(v, f"{key}.{name}") for m, v in value.items()}
        elif month is not None:
            out[name] = {month: _whole(value, f"{key}.{name}")}
        else:
            out[name] = _whole(value, f"{key}.{name}")
    return out


def _whole(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FactsError(N_("{key} must be a whole number, 0 or more"), key=where)
    return value


def _choice(data: dict, key: str, choices: list[str]) -> str:
    value = data.get(key)
    if value not in choices:
        raise FactsError(N_("{key} must be one of: {choices}"), key=key, choices=", ".join(choices))
    return value


def branch_facts(made_up: MadeUp) -> BranchFacts:
    d = made_up.data
    domain = _choice(d, "domain", [x.value for x in Domain])
    month = d.get("month")
    try:
        year, mon = parse_month(str(month))
    except (TypeError, ValueError):
        raise FactsError(N_('month must be written "YYYY-MM", e.g. "2026-12"')) from None
    meetings = []
    for m in d.get("meetings", []):
        kind = _choice(m, "kind", [x.value for x in MeetingKind])
        expected = _whole(m.get("expected", 10), "meetings.expected")
        attended = _whole(m.get("attended", expected), "meetings.attended")
        for held in m.get("months", [m.get("month", month)]):
            try:
                y, mm = parse_month(str(held))
            except (TypeError, ValueError):
                raise FactsError(N_('month must be written "YYYY-MM", e.g. "2026-12"')) from None
            meetings.append(Meeting(kind, date(y, mm, 10), attended, expected))
    grades = d.get("grades", {})
    return BranchFacts(
        "try",
        domain,
        f"{year:04d}-{mon:02d}",
        meetings,
        _counts(d, "events", month),
        _counts(d, "tasks", month),
        _counts(d, "flags", month),
        {k: str(v) for k, v in grades.items()},
        list(d.get("featured", [])),
    )


def member_facts(made_up: MadeUp) -> MemberFacts:
    d = made_up.data
    category = _choice(d, "category", [x.value for x in MemberCategory])
    scores = {}
    for key in ("self", "review"):
        value = d.get(key)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100
        ):
            raise FactsError(N_("{key} must be a number from 0 to 100"), key=key)
        scores[key] = None if value is None else Decimal(str(value))
    ballots = d.get("ballots", {})
    return MemberFacts(
        "try",
        "try",
        category,
        str(d.get("year", "")),
        _counts(d, "events", None),
        _counts(d, "tasks", None),
        _counts(d, "flags", None),
        {k: str(v) for k, v in d.get("grades", {}).items()},
        scores["self"],
        scores["review"],
        {k: _whole(v, f"ballots.{k}") for k, v in ballots.items()},
    )


def _names(rubric: FortressRubric | VanguardRubric, lang: str) -> Names:
    items: dict[str, str] = {}
    groups: dict[str, str] = {}
    if isinstance(rubric, FortressRubric):
        every = (*rubric.items, *rubric.bonus, *rubric.deductions)
        group_list = rubric.dimensions
    else:
        every = (*rubric.bonus, *rubric.deductions)
        for v in rubric.variants.values():
            every += (*v.items, *v.bonus, *v.deductions)
        group_list = rubric.subindices
    for i in every:
        items.setdefault(i.key, name_of(i, lang))
    for g in group_list:
        groups[g.key] = name_of(g, lang)
    return Names({d.key: name_of(d, lang) for d in rubric.data}, items, groups)


def _value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        return num(value)
    return str(value)


def explain_branch(doc: Doc, rubric: FortressRubric, made_up: MadeUp, lang: str, _) -> None:
    facts = branch_facts(made_up)
    try:
        result = score_branch(rubric, facts)
    except ValueError as exc:  # an unknown featured item
        raise FactsError(N_("featured: {detail}"), detail=str(exc)) from None
    names = _names(rubric, lang)
    doc.heading(
        _("{rubric}: a made-up branch, {month}").format(
            rubric=name_of(rubric, lang), month=facts.period
        ),
        1,
    )
    rows = []
    for r in result.items:
        item = rubric.item(r.key)
        if r.part is Part.DEDUCTION and not r.points:
            continue
        shown = _("{points} of {max}").format(points=num(r.points), max=num(r.max_points))
        if r.part is Part.DEDUCTION:
            shown = num(r.points)
        details = [
            _("value {value} ({first} to {last}) · {rule}").format(
                value=_value(r.value),
                first=r.window[0],
                last=r.window[1],
                rule=rule_text(item.rule, _),
            )
        ]
        if r.max_points == 0:
            details.append(_("done") if r.met else _("not done"))
        rows.append(Row(name_of(item, lang), shown, details))
    doc.rows(rows)
    lines = []
    if rubric.base_points:
        lines.append(_("Base: {points}").format(points=num(rubric.base_points)))
    for label, pool in (
        (_("Featured items"), result.featured),
        (_("Bonus"), result.bonus),
        (_("Deductions"), result.deductions),
    ):
        if pool.earned:
            lines.append(
                _("{label}: {earned} earned, {counted} counted (cap {cap})").format(
                    label=label,
                    earned=num(pool.earned),
                    counted=num(pool.counted),
                    cap=num(pool.cap),
                )
            )
    for z in result.zeroed:
        lines.append(
            _("Zeroing “{name}”: {points} points removed").format(
                name=names.items.get(z.key, z.key)
                if z.key in names.items
                else _clause(rubric, z.key, lang),
                points=num(z.points_removed),
            )
        )
    lines.append(
        _("Total: {total} of {max}").format(total=num(result.total), max=num(result.max_points))
    )
    doc.bullets(lines)
    stars = result.stars
    out = []
    if stars is not None:
        scheme = rubric.schemes[stars.scheme]
        for level in scheme.levels:
            if level.stars in stars.unmet:
                out.append(
                    _("{stars} stars: the points are reached, but not its conditions").format(
                        stars=level.stars
                    )
                )
        for v in result.vetoes:
            out.append(_("Veto “{name}”").format(name=_clause(rubric, v.key, lang)))
        out.append(
            _("Stars ({scheme}): {stars}").format(
                scheme=name_of(scheme, lang), stars="★" * stars.stars
            )
        )
    else:
        out.append(_("Stars: the default scheme uses quotas; a branch alone is not ranked."))
    out.append(
        _("Meets the standard: yes") if result.meets_standard else _("Meets the standard: no")
    )
    doc.bullets(out)


def _clause(rubric: FortressRubric, key: str, lang: str) -> str:
    for c in (*rubric.vetoes, *rubric.zeroing):
        if c.key == key:
            return name_of(c, lang)
    return key


def explain_member(doc: Doc, rubric: VanguardRubric, made_up: MadeUp, lang: str, _) -> None:
    facts = member_facts(made_up)
    try:
        result = score_member(rubric, facts)
    except ValueError as exc:  # an unknown vote option
        raise FactsError(N_("ballots: {detail}"), detail=str(exc)) from None
    names = _names(rubric, lang)
    variant = rubric.variants[facts.category]
    doc.heading(
        _("{rubric}: a made-up member ({category})").format(
            rubric=name_of(rubric, lang), category=name_of(variant, lang)
        ),
        1,
    )
    items = {i.key: i for i in variant.items}
    rows = [
        Row(
            name_of(items[key], lang),
            _("{points} of {max}").format(points=num(points), max=num(items[key].max_points)),
            [rule_text(items[key].rule, _)],
        )
        for key, points in result.items()
    ]
    doc.rows(rows)
    parts = part_names(_)
    lines = [
        _("{part}: {value} × {weight} = {points}").format(
            part=parts[p.part.value],
            value="—" if p.value is None else num(p.value),
            weight=num(p.weight),
            points=num(p.points),
        )
        for p in result.parts
    ]
    if rubric.base_points is not None:
        lines.append(_("Base: {points}").format(points=num(rubric.base_points)))
    for label, pool, lines_of in (
        (_("Bonus"), result.bonus, result.bonus_items),
        (_("Deductions"), result.deductions, result.deduction_items),
    ):
        if pool.earned:
            detail = _(", ").join(
                f"{names.items.get(k, k)} {num(Decimal(c) / 100)}" for k, c in lines_of
            )
            lines.append(
                _("{label}: {earned} earned, {counted} counted (cap {cap})").format(
                    label=label,
                    earned=num(pool.earned),
                    counted=num(pool.counted),
                    cap=num(pool.cap),
                )
                + f" — {detail}"
            )
    for z in result.zeroed:
        lines.append(
            _("Zeroing “{name}”: {points} points removed").format(
                name=z.key, points=num(z.points_removed)
            )
        )
    lines.append(
        _("Total: {total} of {max}").format(total=num(result.total), max=num(rubric.max_points))
    )
    grades = grade_names(_)
    for h in result.hard_rules:
        rule = next(r for r in rubric.hard_rules if r.key == h.key)
        lines.append(
            _("Hard rule “{name}”: at best {grade}").format(
                name=name_of(rule, lang), grade=grades[h.max_grade]
            )
        )
    lines.append(_("Grade: {grade}").format(grade=grades[result.grade]))
    lines.append(
        _("In a branch, the excellent cap and the branch review may still change the grade.")
    )
    doc.bullets(lines)
