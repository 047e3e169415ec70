"""`branchbot rubric check FILE…` and `branchbot rubric show [FILE] [--lang zh|en]`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from decimal import Decimal

    from rich.console import Console
    from rich.table import Table

    from scoring.errors import RubricError
    from scoring.model import Item, Rule
    from scoring.rubric import RubricFile

# scoring and rich are imported by the commands that use them: `branchbot --help` and
# every other command should not pay for them.

app = typer.Typer(
    help="Check and show scoring rubrics.", no_args_is_help=True, rich_markup_mode=None
)

Lang = Annotated[str, typer.Option("--lang", help="zh or en")]


def _gettext(lang: str) -> Callable[[str], str]:
    from bot.i18n import gettext_for

    return gettext_for("zh_Hans" if lang == "zh" else "en")


def render_error(error: RubricError, _: Callable[[str], str]) -> str:
    """``file: key.path: problem (did you mean 'x'?)`` in the chosen language.

    The problem texts are ``scoring.errors.PROBLEMS``; they are the message ids.
    """
    from scoring.errors import PROBLEMS, SUGGESTION

    text = _(PROBLEMS[error.problem]).format(**error.args)
    if error.suggestion:
        text += " (" + _(SUGGESTION).format(suggestion=error.suggestion) + ")"
    where = f"{error.file}: {error.path}" if error.path else error.file
    return f"{where}: {text}"


def _expand(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        out.extend(sorted(path.rglob("*.toml")) if path.is_dir() else [path])
    return out


@app.command()
def check(
    files: Annotated[list[Path], typer.Argument(help="Rubric files or folders.")],
    lang: Lang = "en",
) -> None:
    """Validate rubric files; exit with 1 if any has a problem."""
    from scoring.rubric import check_files

    _ = _gettext(lang)
    paths = _expand(files)
    errors = check_files(paths)
    for error in errors:
        typer.echo(render_error(error, _), err=True)
    if errors:
        typer.echo(_("{count} problem(s) found.").format(count=len(errors)), err=True)
        raise typer.Exit(1)
    typer.echo(_("{count} file(s) checked, no problems.").format(count=len(paths)))


@app.command()
def show(
    file: Annotated[Path | None, typer.Argument(help="A rubric file or folder.")] = None,
    lang: Lang = "zh",
) -> None:
    """Show rubric files as readable tables (default: the shipped rubrics)."""
    from rich.console import Console

    from scoring.rubric import RUBRICS_DIR, read_file

    _ = _gettext(lang)
    console = Console()  # the terminal's width (or $COLUMNS)
    paths = _expand([file or RUBRICS_DIR])
    failed = False
    for path in paths:
        parsed, errors = read_file(path)
        for error in errors:
            typer.echo(render_error(error, _), err=True)
        if parsed is None or errors:
            failed = True
            continue
        _show_file(console, parsed, lang, _)
    if failed:
        raise typer.Exit(1)


def _labels(_: Callable[[str], str]) -> dict[str, str]:
    """Words for the rubric's own keywords (periods, parts, grades)."""
    return {
        "month": _("month"),
        "quarter": _("quarter"),
        "half": _("half-year"),
        "year": _("year"),
        "indices": _("indices from facts"),
        "self": _("self-assessment"),
        "vote": _("democratic evaluation"),
        "review": _("branch review"),
        "excellent": _("excellent"),
        "qualified": _("qualified"),
        "basically_qualified": _("basically qualified"),
        "unqualified": _("unqualified"),
    }


def _name(thing: object, lang: str) -> str:
    return getattr(thing, "name_zh" if lang == "zh" else "name_en")


def _num(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _rule_text(rule: Rule, _: Callable[[str], str]) -> str:
    from scoring.model import RuleKind

    if rule.kind is RuleKind.DONE:
        return _("{points} when done").format(points=_num(rule.points))
    if rule.kind is RuleKind.PER_EVENT:
        return _("{points} each, up to {cap}").format(
            points=_num(rule.points), cap=_num(rule.max_points)
        )
    if rule.kind is RuleKind.DEDUCTION:
        return _("−{points} each, at most −{cap}").format(
            points=_num(rule.points), cap=_num(rule.max_points)
        )
    if rule.kind is RuleKind.PROPORTIONAL:
        return _("{points} × rate (full at {full})").format(
            points=_num(rule.points), full=_num(rule.full_at)
        )
    if rule.kind is RuleKind.LADDER:
        return "; ".join(f"≥{_num(a)} → {_num(p)}" for a, p in rule.steps)
    return ", ".join(f"{g} {_num(p)}" for g, p in rule.grades)


def _evidence_text(item: Item) -> str:
    ev = item.evidence
    key = f"{ev.key}/{ev.den}" if ev.den else ev.key
    return f"{ev.kind.value}: {key}" if key else ev.kind.value


def _items_table(title: str, items: tuple[Item, ...], lang: str, _) -> Table:
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for column in (
        _("Key"),
        _("Item"),
        _("Group"),
        _("Period"),
        _("Evidence"),
        _("Rule"),
        _("Points"),
    ):
        table.add_column(column)
    for item in items:
        table.add_row(
            item.key,
            _name(item, lang),
            item.dimension,
            _labels(_)[item.period.value],
            _evidence_text(item),
            _rule_text(item.rule, _),
            _num(item.max_points),
        )
    return table


def _show_file(console: Console, rf: RubricFile, lang: str, _) -> None:
    version = _("version {version}").format(version=rf.version)
    console.rule(f"{_name(rf, lang)} — {rf.path} ({version})")
    s = rf.sections
    for group in (*s.get("dimensions", ()), *s.get("subindices", ())):
        console.print(f"• {group.key}: {_name(group, lang)}")
    for key, title in (
        ("items", _("Items")),
        ("bonus", _("Bonus items")),
        ("deductions", _("Deductions")),
    ):
        if s.get(key):
            console.print(_items_table(title, s[key], lang, _))
    if "max_points" in s:
        console.print(
            _(
                "Maximum {total}: common {common} + domain {domain} + featured {featured}; "
                "bonus up to {bonus}, deductions up to {deductions}."
            ).format(
                total=_num(s["max_points"]),
                common=_num(s["common_points"]),
                domain=_num(s["domain_points"]),
                featured=_num(s["featured_points"]),
                bonus=_num(s["bonus_cap"]),
                deductions=_num(s["deduction_cap"]),
            )
        )
    for clause in (*s.get("vetoes", ()), *s.get("zeroing", ()), *s.get("hard_rules", ())):
        console.print(f"• {clause.key}: {_name(clause, lang)}")
    for scheme in s.get("schemes", ()):
        console.print(_scheme_table(scheme, lang, _))
    if "weights" in s:
        console.print(_vanguard_table(s, lang, _))


def _scheme_table(scheme, lang: str, _) -> Table:
    from rich.table import Table

    from scoring.model import StarMethod

    quota = scheme.method is StarMethod.QUOTA
    table = Table(title=f"{_name(scheme, lang)} ({_labels(_)[scheme.period.value]})")
    table.add_column(_("Level"))
    table.add_column(_("Share") if quota else _("From points"))
    shares = dict(scheme.shares)
    for level in scheme.levels:
        limit = f"{shares[level.stars] * 100:.0f}%" if quota else _num(level.min_points)
        if level.featured_done:
            limit += " + " + _("{count} featured item(s) done").format(count=level.featured_done)
        table.add_row(_name(level, lang), limit)
    return table


def _vanguard_table(s: dict, lang: str, _) -> Table:
    from rich.table import Table

    table = Table(title=_("How the parts combine"))
    table.add_column(_("Part"))
    table.add_column(_("Weight"))
    for part, weight in s["weights"]:
        table.add_row(_labels(_)[part.value], f"{weight * 100:.0f}%")
    for grade, minimum in s["grades"]:
        table.add_row(_labels(_)[grade.key], "≥ " + _num(minimum))
    cap = s["excellent_cap"]
    table.add_row(
        _("excellent"), _("at most {share}% of a branch").format(share=f"{cap.share * 100:.0f}")
    )
    return table
