"""`branchbot import roster FILE` and `branchbot export roster [--org PATH] FILE.xlsx`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.common import console, err_console, fail, run_in_session, settings_or_exit
from bot.clock import Clock
from bot.config import Settings
from bot.i18n import gettext_for
from bot.services import orgs, roster
from bot.services.audit import Actor

import_app = typer.Typer(help="Import data from files.", no_args_is_help=True)
export_app = typer.Typer(help="Export data to files.", no_args_is_help=True)

LOCALES = {"zh": "zh_Hans", "en": "en"}
LangOption = typer.Option(None, "--lang", help="Language of messages (and of the sheet): zh or en.")

Gettext = Callable[[str], str]

# Every code the service can report, with its English msgid. Placeholders: {value},
# {other_row}, {detail}, {choices}, {columns}, {suffix}.
ROW_MESSAGES: dict[str, str] = {
    "name_missing": "the name is missing",
    "name_too_long": "the name is too long (at most {detail} characters)",
    "name_bidi": "the name “{value}” contains characters that reverse the direction of text",
    "name_invisible": "the name “{value}” is empty once invisible characters are removed",
    "name_formula": "the name “{value}” starts with =, +, - or @ "
    "(a spreadsheet would read it as a formula)",
    "roster_no_bidi": "the roster number “{value}” contains characters that reverse "
    "the direction of text",
    "roster_no_formula": "the roster number “{value}” starts with =, +, - or @ "
    "(a spreadsheet would read it as a formula)",
    "branch_missing": "the branch is missing",
    "branch_bad_path": "“{value}” is not a valid organisation path "
    "(names separated by /, from the city committee down to the branch)",
    "branch_under_branch": "“{detail}” in “{value}” is a branch, and a branch "
    "cannot contain other organisations",
    "branch_is_committee": "“{value}” is a committee, not a branch: members belong to branches",
    "branch_used_as_committee": "“{value}” is a branch here, but row {other_row} "
    "puts an organisation under it",
    "branch_ambiguous": "several branches are called “{value}”: give the full path",
    "branch_unknown": "there is no branch called “{value}”: give the full path "
    "from the city committee down to the branch",
    "root_unknown": "the top-level organisation “{value}” does not exist (existing: {detail})",
    "root_several": "the file names several top-level organisations (“{value}” is one); "
    "there can be only one",
    "domain_required": "the branch “{value}” does not exist yet: give its domain "
    "so that it can be created",
    "domain_conflict": "the domain {value} differs from the one given for the same "
    "branch in row {other_row}",
    "domain_mismatch": "the branch already exists in the domain {detail}; "
    "an import does not change a branch's domain",
    "domain_unknown": "unknown domain “{value}” (one of: {choices})",
    "category_missing": "the category is missing",
    "category_unknown": "unknown category “{value}” (one of: {choices})",
    "role_unknown": "unknown role “{value}” (one of: {choices})",
    "status_unknown": "unknown status “{value}” (one of: {choices})",
    "language_unknown": "unknown language “{value}” (one of: {choices})",
    "phone_malformed": "the phone number {value} is malformed (11 digits starting with 1)",
    "phone_duplicate": "the phone number {value} is also in row {other_row}",
    "phone_taken": "the phone number {value} already belongs to another member, {detail}",
    "roster_no_duplicate": "the roster number {value} is also in row {other_row}",
    "roster_no_too_long": "the roster number {value} is too long (at most 64 characters)",
    "roster_no_conflict": "the phone number on this row belongs to the member with "
    "roster number {detail}, not {value}",
    "date_malformed": "the date {value} is malformed (write it like 2020-03-15)",
    "secretary_duplicate": "a second secretary for {value} (the first is in row {other_row})",
    "person_duplicate": "{value} appears twice in this branch with neither phone nor "
    "roster number to tell them apart (see row {other_row})",
    "member_twice": "this row and row {other_row} both refer to the same member, {value}",
}

FILE_MESSAGES: dict[str, str] = {
    "roster.file_type": "unsupported file type {suffix}: use .xlsx or .csv "
    "(save an old .xls workbook as .xlsx first)",
    "roster.encoding": "the file is not text in UTF-8 or GBK/GB18030: "
    "save it again as “CSV UTF-8” or as an .xlsx workbook",
    "roster.xlsx_as_csv": "the file is an Excel workbook with a .csv name: rename it to .xlsx",
    "roster.unreadable": "the file cannot be read as an Excel workbook (.xlsx): "
    "it may be damaged or in another format",
    "roster.empty": "the file has no rows",
    "roster.missing_columns": "the header row lacks the columns {columns}",
    "roster.duplicate_column": "two columns mean the same thing: {columns}",
}


def _locale(lang: str | None, settings: Settings) -> str:
    if lang is None:
        return settings.default_locale
    if lang not in LOCALES:
        raise fail(f"--lang: must be one of {', '.join(LOCALES)}")
    return LOCALES[lang]


def row_problem(error: roster.RowError, _: Gettext, locale: str) -> str:
    field = error.code.rsplit("_", 1)[0]
    detail = error.detail
    if error.code == "domain_mismatch":
        detail = roster.value_label("domain", detail, locale)
    listed = roster.choices(field, locale) if error.code.endswith("_unknown") else []
    return _(ROW_MESSAGES[error.code]).format(
        value=error.value,
        other_row=error.other_row,
        detail=detail,
        choices=_list_sep(locale).join(listed),
    )


def file_problem(error: roster.RosterFileError, _: Gettext, locale: str) -> str:
    columns = [
        name if name not in roster.FIELDS else roster.header_label(name, locale)
        for name in error.params.get("columns", [])
    ]
    text = _(FILE_MESSAGES[error.code]).format(
        columns=_list_sep(locale).join(columns), suffix=error.params.get("suffix", "")
    )
    return text


def _list_sep(locale: str) -> str:
    return "、" if locale.startswith("zh") else ", "


@contextmanager
def _progress(_: Gettext) -> Iterator[roster.Progress]:
    """A bar per phase; rich draws nothing when the output is not a terminal."""
    names = {"read": _("Reading"), "check": _("Checking"), "write": _("Writing")}
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )
    tasks: dict[str, Any] = {}

    def update(phase: str, done: int, total: int) -> None:
        if phase not in tasks:
            tasks[phase] = bar.add_task(names[phase], total=total or None)
        bar.update(tasks[phase], completed=done, total=total or None)

    with bar:
        yield update


@import_app.command("roster")
def import_roster(
    file: Path = typer.Argument(..., help="The roster: .xlsx, or .csv in UTF-8 or GBK."),
    lang: str | None = LangOption,
    dry_run: bool = typer.Option(False, "--dry-run", help="Check and count, write nothing."),
) -> None:
    """Import members (and missing organisations) from a roster; all or nothing."""
    settings = settings_or_exit()
    locale = _locale(lang, settings)
    _ = gettext_for(locale)
    if not file.is_file():
        raise fail(_("File not found: {path}").format(path=file), code=1)

    with _progress(_) as progress:
        try:
            sheet = roster.read_roster(file, progress)
        except roster.RosterFileError as exc:
            raise fail(f"{file.name}: {file_problem(exc, _, locale)}", code=1) from None

        async def work(session: AsyncSession, clock: Clock, _settings: Settings):
            plan = await roster.plan_import(session, sheet, progress)
            if plan.errors or dry_run:
                return plan
            actor = Actor.cli(f"import roster {file.name}")
            await roster.apply_plan(session, plan, actor=actor, now=clock.now(), progress=progress)
            return plan

        plan = run_in_session(work, settings)

    if plan.errors:
        _print_errors(plan.errors, _, locale)
        message = _("{file}: nothing was imported; problems found: {count}")
        raise fail(message.format(file=file.name, count=len(plan.errors)), code=1)
    s = plan.summary
    done = _("Dry run, nothing written") if dry_run else _("Imported {file}").format(file=file.name)
    counts = _(
        "members created: {created}, updated: {updated}, unchanged: {unchanged}; "
        "organisations created: {orgs}"
    ).format(created=s.created, updated=s.updated, unchanged=s.unchanged, orgs=s.orgs_created)
    console.print(f"{done} — {counts}", markup=False, highlight=False, soft_wrap=True)


def _print_errors(errors: list[roster.RowError], _: Gettext, locale: str) -> None:
    table = Table(_("Row"), _("Column"), _("Problem"), show_lines=False)
    for e in errors:
        table.add_row(str(e.row), e.column, row_problem(e, _, locale))
    err_console.print(table)


@export_app.command("roster")
def export_roster(
    file: Path = typer.Argument(..., help="Where to write the roster (.xlsx)."),
    org: str | None = typer.Option(
        None, "--org", help="Only this organisation's subtree, e.g. 某某市委/某某镇党委."
    ),
    lang: str | None = LangOption,
) -> None:
    """Write members to an .xlsx that `import roster` reads back unchanged."""
    settings = settings_or_exit()
    locale = _locale(lang, settings)
    _ = gettext_for(locale)
    if file.suffix.lower() != ".xlsx":
        raise fail(_("The export file must end in .xlsx"), code=1)

    async def work(session: AsyncSession, _clock: Clock, _settings: Settings):
        root = None
        if org is not None:
            root = await orgs.find_by_path(session, org)
            if root is None:
                raise fail(_("No organisation at {path}").format(path=org), code=1)
        return await roster.export_rows(session, root)

    rows = run_in_session(work, settings)
    count = roster.write_xlsx(rows, file, lang=locale)
    console.print(
        _("Exported {count} members to {file}").format(count=count, file=file),
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
