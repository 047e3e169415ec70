"""`branchbot import roster|orgs FILE` and `branchbot export roster [--org PATH] FILE.xlsx|.csv`.

Messages are in the language of `--lang` (else DEFAULT_LOCALE), successes and problems
alike. Exit codes follow bot/cli/common.py: 1 when the file's data is refused, 2 when
the call itself is wrong (no such file, a folder that does not exist).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from bot.cli.common import (
    EXIT_REFUSED,
    EXIT_USAGE,
    console,
    fail,
    run_in_session,
    settings_or_exit,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.clock import Clock
    from bot.config import Settings

import_app = typer.Typer(
    help="Import data from files.", no_args_is_help=True, rich_markup_mode=None
)
export_app = typer.Typer(help="Export data to files.", no_args_is_help=True, rich_markup_mode=None)

LOCALES = {"zh": "zh_Hans", "en": "en"}
LangOption = typer.Option(None, "--lang", help="Language of messages (and of the sheet): zh or en.")
DryRun = typer.Option(False, "--dry-run", help="Check and count, write nothing.")
ErrorsOption = typer.Option(
    None,
    "--errors",
    help="On problems, write the file back here (.xlsx) with each bad cell marked "
    "and a comment saying why.",
)

Gettext = Callable[[str], str]


def _locale(lang: str | None, settings: Settings) -> str:
    if lang is None:
        return settings.default_locale
    if lang not in LOCALES:
        from bot.cli.common import words

        _ = words(settings)
        text = _("must be one of {values}").format(values=", ".join(LOCALES))
        raise fail("--lang: " + text)
    return LOCALES[lang]


def _check_output(path: Path, option: str, _: Gettext, csv_too: bool = False) -> None:
    """An output file: .xlsx (or .csv where allowed), in a folder that exists (checked
    before any work). `option` names it in a refusal: the option, or the file itself."""
    suffix = path.suffix.lower()
    if csv_too and suffix not in (".xlsx", ".csv"):
        raise fail(_("{option}: the file must end in .xlsx or .csv").format(option=option))
    if not csv_too and suffix != ".xlsx":
        raise fail(_("{option}: the file must end in .xlsx").format(option=option))
    if not path.parent.is_dir():
        message = _("{option}: the folder {folder} does not exist")
        raise fail(message.format(option=option, folder=path.parent))
    if path.is_dir():
        raise fail(_("{option}: {path} is a folder").format(option=option, path=path))


def _check_input(file: Path, _: Gettext) -> None:
    if not file.is_file():
        raise fail(_("File not found: {path}").format(path=file), code=EXIT_USAGE)


def _save(write: Callable[[], object], path: Path, _: Gettext) -> object:
    try:
        return write()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise fail(_("Cannot write {path}: {reason}").format(path=path, reason=reason)) from None


def _refuse_rows(
    file: Path,
    sheet,
    errors: list,
    errors_file: Path | None,
    _: Gettext,
    locale: str,
) -> typer.Exit:
    from bot.cli.report import print_errors, write_error_sheet

    print_errors(errors, _, locale)
    if errors_file is not None:
        marked = _save(
            lambda: write_error_sheet(file, sheet, errors, errors_file, _, locale), errors_file, _
        )
        console.print(_("Marked {count} cells in {file}").format(count=marked, file=errors_file))
    message = _("{file}: nothing was imported; problems found: {count}")
    return fail(message.format(file=file.name, count=len(errors)), code=EXIT_REFUSED)


@import_app.command("roster")
def import_roster(
    file: Path = typer.Argument(..., help="The roster: .xlsx, or .csv in UTF-8 or GBK."),
    lang: str | None = LangOption,
    dry_run: bool = DryRun,
    errors_file: Path | None = ErrorsOption,
) -> None:
    """Import members (and missing organisations) from a roster; all or nothing.

    Columns, accepted words and path forms: docs/roster.md.
    """
    from bot.cli.report import file_problem, progress_bars
    from bot.i18n import gettext_for
    from bot.services import roster
    from bot.services.audit import Actor

    settings = settings_or_exit()
    locale = _locale(lang, settings)
    _ = gettext_for(locale)
    _check_input(file, _)
    if errors_file is not None:
        _check_output(errors_file, "--errors", _)

    with progress_bars(_) as progress:
        try:
            sheet = roster.read_roster(file, progress)
        except roster.RosterFileError as exc:
            raise fail(f"{file.name}: {file_problem(exc, _, locale)}", code=EXIT_REFUSED) from None
        if sheet.examples:
            rows = ", ".join(str(n) for n in sheet.examples)
            console.print(_("Row {rows}: the template's example, skipped.").format(rows=rows))
        if not sheet.rows:
            message = (
                _("{file}: nothing to import: only the template's example row is filled in")
                if sheet.examples
                else _("{file}: nothing to import: the header is there but no row follows it")
            )
            raise fail(message.format(file=file.name), code=EXIT_REFUSED)

        async def work(session: AsyncSession, clock: Clock, _settings: Settings):
            plan = await roster.plan_import(session, sheet, progress)
            if plan.errors or dry_run:
                return plan
            actor = Actor.cli(f"import roster {file.name}")
            await roster.apply_plan(session, plan, actor=actor, now=clock.now(), progress=progress)
            return plan

        plan = run_in_session(work, settings, locale)

    if plan.errors:
        raise _refuse_rows(file, sheet, plan.errors, errors_file, _, locale)
    s = plan.summary
    done = _("Dry run, nothing written") if dry_run else _("Imported {file}").format(file=file.name)
    counts = _(
        "members created: {created}, updated: {updated}, unchanged: {unchanged}; "
        "organisations created: {orgs}"
    ).format(created=s.created, updated=s.updated, unchanged=s.unchanged, orgs=s.orgs_created)
    console.print(f"{done} — {counts}")


@import_app.command("orgs")
def import_orgs(
    file: Path = typer.Argument(..., help="The organisation tree: .xlsx, or .csv in UTF-8 or GBK."),
    lang: str | None = LangOption,
    dry_run: bool = DryRun,
    errors_file: Path | None = ErrorsOption,
) -> None:
    """Create or update the organisation tree from a file; all or nothing.

    One row per organisation: its path (or superior + name), kind, domain, time zone.
    """
    from bot.cli.report import file_problem
    from bot.i18n import gettext_for
    from bot.services import org_import
    from bot.services.audit import Actor
    from bot.services.roster import RosterFileError

    settings = settings_or_exit()
    locale = _locale(lang, settings)
    _ = gettext_for(locale)
    _check_input(file, _)
    if errors_file is not None:
        _check_output(errors_file, "--errors", _)
    try:
        sheet = org_import.read_org_file(file)
    except RosterFileError as exc:
        raise fail(f"{file.name}: {file_problem(exc, _, locale)}", code=EXIT_REFUSED) from None
    if not sheet.rows:
        message = _("{file}: nothing to import: the header is there but no row follows it")
        raise fail(message.format(file=file.name), code=EXIT_REFUSED)

    async def work(session: AsyncSession, clock: Clock, _settings: Settings):
        plan = await org_import.plan_org_import(session, sheet)
        if not plan.errors and not dry_run:
            actor = Actor.cli(f"import orgs {file.name}")
            await org_import.apply_org_plan(session, plan, actor=actor, now=clock.now())
        return plan

    plan = run_in_session(work, settings, locale)
    if plan.errors:
        raise _refuse_rows(file, sheet, plan.errors, errors_file, _, locale)
    created, updated, unchanged = plan.counts
    done = _("Dry run, nothing written") if dry_run else _("Imported {file}").format(file=file.name)
    counts = _("organisations created: {created}, updated: {updated}, unchanged: {unchanged}")
    console.print(
        f"{done} — {counts.format(created=created, updated=updated, unchanged=unchanged)}"
    )


@export_app.command("roster")
def export_roster(
    file: Path = typer.Argument(
        ...,
        help="Where to write the roster: .xlsx, or .csv (UTF-8, for other tools); "
        "the template is .xlsx only.",
    ),
    org: str | None = typer.Option(
        None, "--org", help="Only this organisation's subtree, e.g. 某某市委/某某镇党委."
    ),
    lang: str | None = LangOption,
    template: bool = typer.Option(
        False,
        "--template",
        help="Write an empty roster to fill in, as .xlsx only: the header, one example row, "
        "and a sheet explaining every column.",
    ),
) -> None:
    """Write members to an .xlsx that `import roster` reads back unchanged."""
    from bot.i18n import gettext_for
    from bot.services import roster

    settings = settings_or_exit()
    locale = _locale(lang, settings)
    _ = gettext_for(locale)
    if template and file.suffix.lower() != ".xlsx":
        # The template's second sheet explains the columns: a .csv has no room for it.
        message = _("--template: the template is written as .xlsx only; name it e.g. {file}")
        raise fail(message.format(file=file.with_suffix(".xlsx").name))
    _check_output(file, str(file), _, csv_too=not template)
    if template:
        _save(lambda: roster.write_template(file, lang=locale, notes=_notes(_, locale)), file, _)
        console.print(_("Wrote the roster template to {file}").format(file=file))
        return

    async def work(session: AsyncSession, _clock: Clock, _settings: Settings):
        from bot.services import tree

        root = await tree.require_path(session, org) if org is not None else None
        return await roster.export_rows(session, root)

    rows = run_in_session(work, settings, locale)
    write = roster.write_csv if file.suffix.lower() == ".csv" else roster.write_xlsx
    count = _save(lambda: write(rows, file, lang=locale), file, _)
    console.print(_("Exported {count} members to {file}").format(count=count, file=file))


def _notes(_: Gettext, locale: str) -> list[tuple[str, str, str]]:
    """The template's second sheet: each column, whether it is required, what it takes."""
    from bot.services import roster

    required, optional = _("required"), _("optional")
    sep = "、" if locale.startswith("zh") else ", "

    def words(field: str) -> str:
        return sep.join(roster.choices(field, locale))

    about = {
        "roster_no": _("The member's number in the city's records; matches re-imports."),
        "name": _("The member's name."),
        "branch": _(
            "The branch, as a path from the top: 某某市委/某某镇党委/某某村党支部; "
            "a branch name alone is enough when it is unique."
        ),
        "domain": _("Needed only to create a new branch: {words}.").format(words=words("domain")),
        "category": _("One of the four categories: {words} (other usual words accepted).").format(
            words=words("category")
        ),
        "role": _("{words}; empty means member.").format(words=words("role")),
        "status": _("{words}; empty means active.").format(words=words("status")),
        "phone": _("11-digit mobile number; matches re-imports and lets the member join."),
        "joined": _("Date joined, e.g. 2020-03-15."),
        "language": _("{words}; empty means the bot's default.").format(words=words("language")),
    }
    example = (
        _("Row 2"),
        "—",
        _("An example (in grey): the import skips it, so you may leave it in or delete it."),
    )
    return [
        (_("Column"), _("Required?"), _("What to write")),
        *(
            (
                roster.header_label(f, locale),
                required if f in roster.REQUIRED else optional,
                about[f],
            )
            for f in roster.FIELDS
        ),
        example,
    ]
