"""How a file import reports: every problem of every row, translated, grouped."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot.cli.common import err_console
from bot.services import roster

Gettext = Callable[[str], str]

# Every code the service can report, with its English msgid. Placeholders: {value},
# {other_row}, {detail}, {choices}, {columns}, {suffix}.
ROW_MESSAGES: dict[str, str] = {
    "name_missing": "the name is missing",
    "name_too_long": "the name is too long (at most {detail} characters)",
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
def progress_bars(_: Gettext) -> Iterator[roster.Progress]:
    """A bar per phase; rich draws nothing when the output is not a terminal."""
    names = {"read": _("Reading"), "check": _("Checking"), "write": _("Writing")}
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console.rich(),
        transient=True,
    )
    tasks: dict[str, Any] = {}

    def update(phase: str, done: int, total: int) -> None:
        if phase not in tasks:
            tasks[phase] = bar.add_task(names[phase], total=total or None)
        bar.update(tasks[phase], completed=done, total=total or None)

    with bar:
        yield update


def print_errors(errors: list[roster.RowError], _: Gettext, locale: str) -> None:
    table = Table(_("Row"), _("Column"), _("Problem"), show_lines=False)
    for e in errors:
        table.add_row(str(e.row), e.column, row_problem(e, _, locale))
    err_console.print(table)
