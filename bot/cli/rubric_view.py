"""A rubric file as a document an official can read and circulate: every rule that
changes a result, in words, with the human names of the data it reads."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from bot.cli.rubric_doc import Doc, Row
from scoring.model import (
    Condition,
    EvidenceKind,
    Grade,
    HardRule,
    Item,
    MissingPart,
    Rule,
    RuleKind,
    StarMethod,
    StarScheme,
    TieRule,
    Veto,
    VetoEffect,
    Zeroing,
    ZeroTarget,
)
from scoring.rubric import FilePart, RubricFile

Gettext = Callable[[str], str]


def num(value: Decimal | int) -> str:
    return format(Decimal(value).normalize(), "f")


def pct(share: Decimal) -> str:
    return num(share * 100) + "%"


def name_of(thing: object, lang: str) -> str:
    return getattr(thing, "name_zh" if lang == "zh" else "name_en") or getattr(thing, "key", "")


def meeting_names(_: Gettext) -> dict[str, str]:
    return {
        "committee": _("branch committee meeting"),
        "group": _("party group meeting"),
        "general": _("general member meeting"),
        "lesson": _("party lesson"),
        "theme_day": _("theme party day"),
        "org_life": _("organisational-life meeting"),
        "other": _("other meeting"),
    }


def period_names(_: Gettext) -> dict[str, str]:
    return {
        "month": _("monthly"),
        "quarter": _("quarterly"),
        "half": _("half-yearly"),
        "year": _("yearly"),
    }


def grade_names(_: Gettext) -> dict[Grade, str]:
    return {
        Grade.EXCELLENT: _("excellent"),
        Grade.QUALIFIED: _("qualified"),
        Grade.BASICALLY_QUALIFIED: _("basically qualified"),
        Grade.UNQUALIFIED: _("unqualified"),
    }


def part_names(_: Gettext) -> dict[str, str]:
    return {
        "indices": _("indices from facts"),
        "self": _("self-assessment"),
        "vote": _("democratic evaluation"),
        "review": _("branch review"),
    }


@dataclass
class Names:
    """Human names for keys: data keys ([[data]]), items, dimensions, levels."""

    data: dict[str, str]
    items: dict[str, str]
    groups: dict[str, str]

    @classmethod
    def of(cls, files: Iterable[RubricFile], lang: str) -> Names:
        data: dict[str, str] = {}
        items: dict[str, str] = {}
        groups: dict[str, str] = {}
        for rf in files:
            s = rf.sections
            for named in s.get("data", ()):
                data.setdefault(named.key, name_of(named, lang))
            for section in ("items", "bonus", "deductions"):
                for item in s.get(section, ()):
                    items.setdefault(item.key, name_of(item, lang))
            for group in (*s.get("dimensions", ()), *s.get("subindices", ())):
                groups.setdefault(group.key, name_of(group, lang))
        return cls(data, items, groups)

    def datum(self, key: str) -> str:
        return self.data.get(key) or self.items.get(key) or key


def evidence_text(ev, names: Names, _: Gettext) -> str:
    """What an item or condition reads, in words."""
    kind = ev.kind
    meeting = meeting_names(_).get(ev.key, ev.key)
    if kind is EvidenceKind.MEETINGS:
        if ev.quorum_only:
            return _("{meeting}s held (with a quorum)").format(meeting=meeting)
        return _("{meeting}s held").format(meeting=meeting)
    if kind is EvidenceKind.ATTENDANCE:
        return _("attendance at {meeting}s").format(meeting=meeting)
    if kind is EvidenceKind.MONTHS_WITHOUT:
        return _("months without a {meeting}").format(meeting=meeting)
    if kind is EvidenceKind.RATIO:
        return _("{part} out of {whole}").format(
            part=names.datum(ev.key), whole=names.datum(ev.den)
        )
    if kind is EvidenceKind.TASK:
        return _("marked done: {task}").format(task=names.datum(ev.key))
    if kind is EvidenceKind.GRADE:
        return _("grade given by the superior")
    return names.datum(ev.key)


def rule_text(rule: Rule, _: Gettext) -> str:
    """The scoring rule in words: "−2 each, at most −20", "4 when done"…"""
    p = num(rule.points)
    if rule.kind is RuleKind.DONE:
        if rule.max_points == 0:
            return _("no points: a condition that star levels can ask for")
        if rule.at_least != 1:
            return _("{points} when at least {count}").format(points=p, count=num(rule.at_least))
        return _("{points} when done").format(points=p)
    if rule.kind is RuleKind.PER_EVENT:
        return _("{points} each, up to {cap}").format(points=p, cap=num(rule.max_points))
    if rule.kind is RuleKind.DEDUCTION:
        if rule.once:
            return _("−{points} once it reaches {count}").format(points=p, count=num(rule.at_least))
        return _("−{points} each, at most −{cap}").format(points=p, cap=num(rule.max_points))
    if rule.kind is RuleKind.PROPORTIONAL:
        if rule.full_at != 1:
            return _("{points} × the share, full at {full}").format(
                points=p, full=pct(rule.full_at)
            )
        return _("{points} × the share").format(points=p)
    if rule.kind is RuleKind.LADDER:
        return _("; ").join(
            _("at least {count}: {points}").format(count=num(a), points=num(b))
            for a, b in rule.steps
        )
    return _("; ").join(
        _("grade {grade}: {points}").format(grade=g, points=num(b)) for g, b in rule.grades
    )


def points_text(item: Item, _: Gettext) -> str:
    if item.rule.kind is RuleKind.DEDUCTION:
        if item.rule.once:
            return _("−{points}").format(points=num(item.rule.points))
        return _("−{points} each").format(points=num(item.rule.points))
    return _("{points} pts").format(points=num(item.max_points))


def condition_text(when: Condition, names: Names, _: Gettext) -> str:
    what = evidence_text(when.evidence, names, _)
    if when.below is not None:
        return _("{what} below {count}").format(what=what, count=num(when.below))
    at_least = when.at_least if when.at_least is not None else Decimal(1)
    if at_least == 1 and when.evidence.kind is EvidenceKind.FLAG:
        return _("{what} (recorded at least once)").format(what=what)
    return _("{what} at least {count}").format(what=what, count=num(at_least))


def item_row(item: Item, names: Names, lang: str, _: Gettext, with_period: bool) -> Row:
    details = []
    own_task = item.evidence.kind is EvidenceKind.TASK and item.evidence.key == item.key
    head = _("marked done") if own_task else evidence_text(item.evidence, names, _)
    if with_period:
        head = period_names(_)[item.period.value] + _(" · ") + head
    details.append(head)
    details.append(rule_text(item.rule, _))
    return Row(name_of(item, lang), points_text(item, _), [_(" · ").join(details)])


def _header(_: Gettext) -> tuple[str, str, str]:
    return (_("Item"), _("What counts · rule"), _("Points"))


def items_section(
    doc: Doc, title: str, items: Iterable[Item], names: Names, lang: str, _, with_period: bool
) -> None:
    items = list(items)
    if items:
        doc.heading(title, 2)
        doc.rows([item_row(i, names, lang, _, with_period) for i in items], _header(_))


def veto_text(v: Veto, names: Names, lang: str, _: Gettext) -> str:
    if v.effect is VetoEffect.LOWEST:
        effect = _("the lowest star level, whatever the points")
    else:
        effect = _("at most {stars} star(s)").format(stars=v.level)
    return _("{name} — when {condition}: {effect}").format(
        name=name_of(v, lang), condition=condition_text(v.when, names, _), effect=effect
    )


def zeroing_text(z: Zeroing, names: Names, lang: str, _: Gettext) -> str:
    if z.target is ZeroTarget.TOTAL:
        target = _("the whole score becomes 0")
    elif z.target is ZeroTarget.DIMENSION:
        target = _("“{name}” scores nothing").format(
            name=names.groups.get(z.target_key, z.target_key)
        )
    else:
        target = _("the item “{name}” scores nothing").format(
            name=names.items.get(z.target_key, z.target_key)
        )
    return _("{name} — when {condition}: {effect}").format(
        name=name_of(z, lang), condition=condition_text(z.when, names, _), effect=target
    )


def hard_rule_text(h: HardRule, names: Names, lang: str, _: Gettext) -> str:
    return _("{name} — when {condition}: at best {grade}").format(
        name=name_of(h, lang),
        condition=condition_text(h.when, names, _),
        grade=grade_names(_)[h.max_grade],
    )


# ---------------------------------------------------------------- files


def file_doc(doc: Doc, rf: RubricFile, names: Names, lang: str, _: Gettext) -> None:
    doc.heading(name_of(rf, lang), 1)
    doc.para(
        _("File {path}, version {version}.").format(path=rf.path, version=rf.version)
        + (
            " "
            + _("Includes {files}.").format(files=", ".join(rf.includes))
            + (" " + _("Leaves out: {items}.").format(items=", ".join(rf.omit)) if rf.omit else "")
            if rf.includes
            else ""
        )
    )
    s = rf.sections
    fortress = rf.kind.value == "fortress"
    if rf.part is FilePart.STARS:
        _stars(doc, s, names, lang, _)
        return
    if fortress and rf.part is FilePart.COMMON:
        _fortress_totals(doc, s, _)
    if not fortress and rf.part is FilePart.COMMON:
        _vanguard_common(doc, s, names, lang, _)
    items = s.get("items", ())
    groups = list(s.get("dimensions", ())) + list(s.get("subindices", ()))
    known = [g.key for g in groups]
    for key in dict.fromkeys([*known, *(i.dimension for i in items)]):
        chosen = [i for i in items if i.dimension == key]
        if not chosen:
            continue
        title = names.groups.get(key, key)
        doc.heading(title, 2)
        doc.rows([item_row(i, names, lang, _, fortress) for i in chosen], _header(_))
    if s.get("bonus"):
        cap = s.get("bonus_cap")
        title = (
            _("Bonus points (together at most {cap})").format(cap=num(cap))
            if cap is not None and rf.part is FilePart.COMMON
            else _("Bonus points")
        )
        items_section(doc, title, s["bonus"], names, lang, _, fortress)
    if s.get("deductions"):
        cap = s.get("deduction_cap")
        title = (
            _("Deductions (together at most −{cap})").format(cap=num(cap))
            if cap is not None and rf.part is FilePart.COMMON
            else _("Deductions")
        )
        items_section(doc, title, s["deductions"], names, lang, _, fortress)
    if s.get("vetoes"):
        doc.heading(_("Vetoes"), 2)
        doc.bullets([veto_text(v, names, lang, _) for v in s["vetoes"]])
    if s.get("zeroing"):
        doc.heading(_("Zeroing clauses"), 2)
        doc.bullets([zeroing_text(z, names, lang, _) for z in s["zeroing"]])
    if s.get("hard_rules"):
        doc.heading(_("Hard rules (grade limits)"), 2)
        doc.bullets([hard_rule_text(h, names, lang, _) for h in s["hard_rules"]])


def _fortress_totals(doc: Doc, s: dict, _: Gettext) -> None:
    doc.heading(_("Totals"), 2)
    lines = []
    parts = []
    if s["base_points"]:
        parts.append(_("a base of {points}").format(points=num(s["base_points"])))
    for key, label in (
        ("common_points", _("common items {points}")),
        ("domain_points", _("domain items {points}")),
        ("featured_points", _("featured items {points}")),
    ):
        if s[key]:
            parts.append(label.format(points=num(s[key])))
    lines.append(
        _("Maximum {total} points: {parts}.").format(
            total=num(s["max_points"]), parts=_(" + ").join(parts)
        )
    )
    if s["featured_points"]:
        lines.append(
            _("Featured items count up to {cap} points together.").format(
                cap=num(s["featured_points"])
            )
        )
    _caps(lines, s, _)
    lines.append(
        _("The total never goes below 0 or above {total}.").format(total=num(s["max_points"]))
    )
    if s.get("quorum"):
        meetings = meeting_names(_)
        lines.append(
            _("A meeting counts only when more than this share attends: {list}.").format(
                list=_(", ").join(f"{meetings.get(k, k)} {pct(v)}" for k, v in s["quorum"].items())
            )
        )
    doc.bullets(lines)


def _caps(lines: list[str], s: dict, _: Gettext) -> None:
    if s["bonus_cap"]:
        lines.append(_("Bonus points count up to {cap} together.").format(cap=num(s["bonus_cap"])))
    if s["deduction_cap"]:
        lines.append(
            _("Deductions take at most {cap} together.").format(cap=num(s["deduction_cap"]))
        )


def _vanguard_common(doc: Doc, s: dict, names: Names, lang: str, _: Gettext) -> None:
    doc.heading(_("Totals"), 2)
    lines = []
    top = num(s["max_points"])
    if s["base_points"] is not None:
        lines.append(
            _("Every member starts from {base} points (out of {max}).").format(
                base=num(s["base_points"]), max=top
            )
        )
    else:
        parts = part_names(_)
        lines.append(
            _("Out of {max} points, from these parts (each 0–100), weighted: {list}.").format(
                max=top,
                list=_(", ").join(f"{parts[p.value]} {pct(w)}" for p, w in s["weights"]),
            )
        )
        if s["missing"] is MissingPart.REWEIGHT:
            lines.append(_("A part not given yet is left out and the other weights rescaled."))
        else:
            lines.append(_("A part not given yet counts 0."))
        if s["subindices"]:
            lines.append(
                _("Sub-indices (the facts part): {list}.").format(
                    list=_(", ").join(
                        _("{name} up to {points}").format(
                            name=name_of(g, lang), points=num(s["subindex_max"][g.key])
                        )
                        for g in s["subindices"]
                    )
                )
            )
    if s["vote_options"]:
        lines.append(
            _("Democratic evaluation: a ballot is worth {list}.").format(
                list=_(", ").join(f"{name_of(o, lang)} = {num(o.value)}" for o in s["vote_options"])
            )
        )
    _caps(lines, s, _)
    lines.append(_("The total never goes below 0 or above {total}.").format(total=top))
    doc.bullets(lines)
    doc.heading(_("Grades"), 2)
    grades = grade_names(_)
    doc.rows([Row(grades[g], _("from {points}").format(points=num(p))) for g, p in s["grades"]])
    cap = s["excellent_cap"]
    rounding = {"floor": _("rounded down"), "half_up": _("rounded"), "ceil": _("rounded up")}
    cap_lines = [
        _(
            "At most {share} of a branch's members are excellent ({rounding}, at least {minimum})."
        ).format(share=pct(cap.share), rounding=rounding[cap.rounding], minimum=cap.minimum)
    ]
    parts = part_names(_)
    if cap.tie_break:
        cap_lines.append(
            _("Equal totals are ranked by: {list}.").format(
                list=_(", ").join(parts[p] for p in cap.tie_break)
            )
        )
    cap_lines.append(
        _(
            "Members still tied across the last place all become qualified, so the cap is "
            "never exceeded."
        )
    )
    cap_lines.append(
        _("The branch review may change a grade with a written reason, not above a hard rule.")
    )
    doc.bullets(cap_lines)


def _stars(doc: Doc, s: dict, names: Names, lang: str, _: Gettext) -> None:
    comp = s["compliance"]
    doc.heading(_("Meeting the standard"), 2)
    doc.para(_("A branch meets the standard when all of these hold:"))
    needs = [_("at least {points} points").format(points=num(comp.min_points))]
    if comp.veto_fails:
        needs.append(_("no veto"))
    if comp.min_stars:
        needs.append(_("at least {stars} star(s)").format(stars=comp.min_stars))
    doc.bullets(needs)
    for scheme in s["schemes"]:
        _scheme(doc, scheme, s["default_scheme"], names, lang, _)


def _scheme(doc: Doc, scheme: StarScheme, default: str, names: Names, lang: str, _) -> None:
    title = _("{name} ({period})").format(
        name=name_of(scheme, lang), period=period_names(_)[scheme.period.value]
    )
    if scheme.key == default:
        title += " — " + _("used by default")
    doc.heading(title, 2)
    rows = []
    place = Decimal(0)
    for level in scheme.levels:
        if level.share is not None:
            start = place
            place += level.share
            rule = (
                _("the top {share} of branches").format(share=pct(level.share))
                if start == 0
                else _("the next {share} (to {upto})").format(
                    share=pct(level.share), upto=pct(place)
                )
            )
        elif scheme.method is StarMethod.QUOTA:
            rule = _("the rest: from {points} points").format(points=num(level.min_points))
        else:
            rule = _("from {points} points").format(points=num(level.min_points))
        details = []
        if level.featured_done:
            details.append(
                _("and {count} featured item(s) done in full").format(count=level.featured_done)
            )
        for key in level.items_full:
            details.append(_("and “{item}” done in full").format(item=names.items.get(key, key)))
        if level.no_veto:
            details.append(_("and no veto at all"))
        rows.append(Row(f"{'★' * level.stars} {name_of(level, lang)}", rule, details))
    doc.rows(rows)
    notes = []
    if any(
        lv.share is None and (lv.featured_done or lv.items_full or lv.no_veto)
        for lv in scheme.levels
    ):
        notes.append(
            _(
                "A branch that reaches a level's points but not its conditions gets the best "
                "level whose points and conditions it meets."
            )
        )
    if scheme.method is StarMethod.QUOTA:
        notes.append(
            _(
                "Branches are ranked by total; with n branches, the first round(n × share) "
                "places (halves up, shares added from the top) get the level."
            )
        )
        if scheme.ties is TieRule.LOWER:
            notes.append(
                _(
                    "Ties: branches with equal totals across a boundary all get the lower "
                    "result, so no level is given to more branches than its share."
                )
            )
        else:
            notes.append(
                _("Ties: branches with equal totals across a boundary all get the higher result.")
            )
        notes.append(_("A vetoed branch keeps its place in the ranking; nobody moves up into it."))
    notes.append(_("Vetoes apply after the level is found (see the vetoes)."))
    doc.bullets(notes)
