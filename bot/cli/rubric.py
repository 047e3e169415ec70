"""`branchbot rubric check|show|try`: what an official needs to write a rubric alone.

- `check FILE…` lists every problem as `file:line: key.path: problem (hint)`;
- `show [FILE|FOLDER]` prints the rules as a document (80 columns, or `--format
  markdown` to circulate), every rule that changes a result included;
- `try FOLDER --facts FACTS.toml` scores a made-up branch or member and explains it.

The language is `--lang zh|en`, else the bot's default language (DEFAULT_LOCALE), as
for the other commands.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from scoring.errors import RubricError
    from scoring.rubric import RubricFile

# scoring, rich and the renderers are imported by the commands that use them:
# `branchbot --help` and every other command should not pay for them.

app = typer.Typer(
    help="Check, show and try scoring rubrics.", no_args_is_help=True, rich_markup_mode=None
)

LOCALES = {"zh": "zh_Hans", "en": "en"}
Lang = Annotated[str | None, typer.Option("--lang", help="zh or en (default: DEFAULT_LOCALE)")]
Gettext = Callable[[str], str]


def _language(lang: str | None) -> tuple[str, Gettext]:
    """("zh" | "en", gettext): ``--lang``, else the bot's default language.

    Only DEFAULT_LOCALE is read: these commands are how a broken RUBRIC_DIR gets fixed,
    so they must not stop at the check every other command makes first.
    """
    from bot.cli.common import fail, words
    from bot.i18n import gettext_for

    if lang is None:
        from bot.config import SettingsError, load_settings

        try:
            locale = load_settings().default_locale
        except SettingsError as exc:
            raise fail(exc.text(words())) from None
        lang = "zh" if locale == "zh_Hans" else "en"
    if lang not in LOCALES:
        _ = words()
        text = _("must be one of {values}").format(values=", ".join(LOCALES))
        raise fail("--lang: " + text)
    return lang, gettext_for(LOCALES[lang])


def render_error(error: RubricError, _: Gettext) -> str:
    """``file:line: key.path: problem (did you mean 'x'?)`` in the chosen language.

    The problem texts are ``scoring.errors.PROBLEMS``; they are the message ids.
    """
    from scoring.errors import PROBLEMS, SUGGESTION, TOML_DETAILS

    args = dict(error.args)
    if args.get("detail") in TOML_DETAILS:
        args["detail"] = _(args["detail"])
    text = _(PROBLEMS[error.problem]).format(**args)
    if error.suggestion:
        text += " (" + _(SUGGESTION).format(suggestion=error.suggestion) + ")"
    return f"{error.place}: {text}"


def _expand(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        out.extend(sorted(path.rglob("*.toml")) if path.is_dir() else [path])
    return out


@app.command()
def check(
    files: Annotated[list[Path], typer.Argument(help="Rubric files or folders.")],
    lang: Lang = None,
) -> None:
    """Validate rubric files; exit with 1 if any has a problem."""
    from scoring.rubric import check_files

    _lang, _ = _language(lang)
    paths = _expand(files)
    errors = check_files(paths)
    for error in errors:
        typer.echo(render_error(error, _), err=True)
    if errors:
        typer.echo(_("{count} problem(s) found.").format(count=len(errors)), err=True)
        raise typer.Exit(1)
    typer.echo(_("{count} file(s) checked, no problems.").format(count=len(paths)))


def _width(width: int | None) -> int:
    if width:
        return max(width, 40)
    if os.environ.get("COLUMNS", "").isdigit():
        return max(int(os.environ["COLUMNS"]), 40)
    return max(shutil.get_terminal_size((80, 24)).columns, 40)


@app.command()
def show(
    file: Annotated[Path | None, typer.Argument(help="A rubric file or folder.")] = None,
    lang: Lang = None,
    fmt: Annotated[
        str, typer.Option("--format", help="text (for the terminal) or markdown")
    ] = "text",
    width: Annotated[
        int | None, typer.Option("--width", help="columns (default: terminal)")
    ] = None,
) -> None:
    """Show rubric files as a document: every rule that changes a result."""
    from bot.cli.common import fail
    from bot.cli.rubric_doc import Doc, render_markdown, render_text
    from bot.cli.rubric_view import Names, file_doc
    from scoring.rubric import RUBRICS_DIR, FilePart, read_file

    lang, _ = _language(lang)
    if fmt not in ("text", "markdown"):
        raise fail("--format: " + _("must be text or markdown"))
    paths = _expand([file or RUBRICS_DIR])
    parsed: list[RubricFile] = []
    failed = False
    for path in paths:
        rf, errors = read_file(path)
        for error in errors:
            typer.echo(render_error(error, _), err=True)
        if rf is None or errors:
            failed = True
            continue
        parsed.append(rf)
    # Names of data keys and dimensions may be in sibling files (the common part).
    siblings = {p for path in paths for p in path.parent.glob("*.toml")} - set(paths)
    context = [rf for rf in (read_file(p)[0] for p in sorted(siblings)) if rf is not None]
    names = Names.of([*parsed, *context], lang)
    # Parts in the order an official reads them: the common part first, stars last.
    order = {FilePart.COMMON: 0, FilePart.DOMAIN: 1, FilePart.VARIANT: 1, FilePart.FEATURED: 2}
    parsed.sort(key=lambda rf: (rf.kind.value, order.get(rf.part, 3), rf.path))
    doc = Doc()
    for rf in parsed:
        file_doc(doc, rf, names, lang, _)
    text = render_markdown(doc) if fmt == "markdown" else render_text(doc, _width(width))
    typer.echo(text)
    if failed:
        raise typer.Exit(1)


@app.command("try")
def try_(
    rubric: Annotated[Path, typer.Argument(help="The rubric folder (or its files' folder).")],
    facts: Annotated[
        Path, typer.Option("--facts", help="A TOML file describing a branch or member.")
    ],
    lang: Lang = None,
    width: Annotated[
        int | None, typer.Option("--width", help="columns (default: terminal)")
    ] = None,
) -> None:
    """Score a made-up branch or member with a rubric and explain the result."""
    from bot.cli.common import fail
    from bot.cli.rubric_doc import Doc, render_text
    from bot.cli.rubric_try import FactsError, explain_branch, explain_member, read_facts
    from scoring.errors import RubricInvalid
    from scoring.rubric import Kind, load_fortress_rubric, load_vanguard_rubric

    lang, _ = _language(lang)
    try:
        made_up = read_facts(facts)
    except FactsError as exc:
        raise fail(f"{facts}: {_(exc.message).format(**exc.args)}", code=1) from None
    kind = Kind.FORTRESS if made_up.kind == "branch" else Kind.VANGUARD
    try:
        if kind is Kind.FORTRESS:
            loaded = load_fortress_rubric(rubric)
        else:
            loaded = load_vanguard_rubric(rubric)
    except RubricInvalid as exc:
        for error in exc.errors:
            typer.echo(render_error(error, _), err=True)
        raise typer.Exit(1) from None
    doc = Doc()
    try:
        if kind is Kind.FORTRESS:
            explain_branch(doc, loaded, made_up, lang, _)
        else:
            explain_member(doc, loaded, made_up, lang, _)
    except FactsError as exc:
        raise fail(f"{facts}: {_(exc.message).format(**exc.args)}", code=1) from None
    typer.echo(render_text(doc, _width(width)))
