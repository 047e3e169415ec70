"""How a file import reports: every problem of every row, translated, grouped."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bot.cli.common import err_console
from bot.i18n import N_
from bot.services import roster

Gettext = Callable[[str], str]

# Every code the service can report, with its English msgid. Placeholders: {value},
# {other_row}, {detail}, {choices}, {columns}, {suffix}.
ROW_MESSAGES: dict[str, str] = {
    "name_missing": N_("the name is missing"),
    "name_too_long": N_("the name is too long (at most {detail} characters)"),
    "name_bidi": N_("the name “{value}” contains characters that reverse the direction of text"),
    "name_invisible": N_("the name “{value}” is empty once invisible characters are removed"),
    "name_formula": N_(
        "the name “{value}” starts with =, +, - or @ (a spreadsheet would read it as a formula)"
    ),
    "roster_no_bidi": N_(
        "the roster number “{value}” contains characters that reverse the direction of text"
    ),
    "roster_no_formula": N_(
        "the roster number “{value}” starts with =, +, - or @ "
        "(a spreadsheet would read it as a formula)"
    ),
    "branch_missing": N_("the branch is missing"),
    "branch_bad_path": N_(
        "“{value}” is not a valid organisation path "
        "(names separated by /, from the city committee down to the branch)"
    ),
    "path_formula": N_(
        "an organisation name in “{value}” starts with =, +, - or @ "
        "(a spreadsheet would read it as a formula)"
    ),
    "branch_under_branch": N_(
        "“{detail}” in “{value}” is a branch, and a branch cannot contain other organisations"
    ),
    "branch_is_committee": N_("“{value}” is a committee, not a branch: members belong to branches"),
    "branch_used_as_committee": N_(
        "“{value}” is a branch here, but row {other_row} puts an organisation under it"
    ),
    "branch_ambiguous": N_("several branches are called “{value}”: give the full path"),
    "branch_unknown": N_(
        "there is no branch called “{value}”: give the full path "
        "from the city committee down to the branch"
    ),
    "root_unknown": N_("the top-level organisation “{value}” does not exist (existing: {detail})"),
    "root_several": N_(
        "the file names several top-level organisations (“{value}” is one); there can be only one"
    ),
    "domain_required": N_(
        "the branch “{value}” does not exist yet: give its domain so that it can be created"
    ),
    "domain_conflict": N_(
        "the domain {value} differs from the one given for the same branch in row {other_row}"
    ),
    "domain_mismatch": N_(
        "the branch already exists in the domain {detail}; "
        "an import does not change a branch's domain"
    ),
    "domain_unknown": N_("unknown domain “{value}” (one of: {choices})"),
    "category_missing": N_("the category is missing"),
    "category_unknown": N_("unknown category “{value}” (one of: {choices})"),
    "role_unknown": N_("unknown role “{value}” (one of: {choices})"),
    "status_unknown": N_("unknown status “{value}” (one of: {choices})"),
    "language_unknown": N_("unknown language “{value}” (one of: {choices})"),
    "phone_malformed": N_("the phone number {value} is malformed (11 digits starting with 1)"),
    "phone_duplicate": N_("the phone number {value} is also in row {other_row}"),
    "phone_taken": N_("the phone number {value} already belongs to another member, {detail}"),
    "roster_no_duplicate": N_("the roster number {value} is also in row {other_row}"),
    "roster_no_too_long": N_("the roster number {value} is too long (at most 64 characters)"),
    "roster_no_conflict": N_(
        "the phone number on this row belongs to the member with "
        "roster number {detail}, not {value}"
    ),
    "date_malformed": N_("the date {value} is malformed (write it like 2020-03-15)"),
    "secretary_duplicate": N_("a second secretary for {value} (the first is in row {other_row})"),
    "person_duplicate": N_(
        "{value} appears twice in this branch with neither phone nor "
        "roster number to tell them apart (see row {other_row})"
    ),
    "path_missing": N_("neither a path nor a name is given"),
    "kind_unknown": N_("unknown kind “{value}” (one of: {choices})"),
    "timezone_unknown": N_("unknown time zone “{value}” (write it like Asia/Shanghai)"),
    "org_duplicate": N_("“{value}” is also in row {other_row}"),
    "parent_unknown": N_("the superior “{value}” neither exists nor is a row of the file"),
    "domain_on_committee": N_(
        "“{value}” is a committee: only branches have a domain (leave the cell empty)"
    ),
    "branch_at_top": N_("“{value}” is a branch and cannot be the top organisation"),
    "kind_mismatch": N_(
        "“{value}” exists as a {detail}; an import does not change an organisation's kind"
    ),
    "member_twice": N_("this row and row {other_row} both refer to the same member, {value}"),
}

FILE_MESSAGES: dict[str, str] = {
    "roster.file_type": N_(
        "unsupported file type {suffix}: use .xlsx or .csv "
        "(save an old .xls workbook as .xlsx first)"
    ),
    "roster.encoding": N_(
        "the file is not text in UTF-8 or GBK/GB18030: "
        "save it again as “CSV UTF-8” or as an .xlsx workbook"
    ),
    "roster.xlsx_as_csv": N_("the file is an Excel workbook with a .csv name: rename it to .xlsx"),
    "roster.unreadable": N_(
        "the file cannot be read as an Excel workbook (.xlsx): "
        "it may be damaged or in another format"
    ),
    "roster.empty": N_("the file has no rows"),
    "roster.missing_columns": N_("the header row lacks the columns {columns}"),
    "roster.duplicate_column": N_("two columns mean the same thing: {columns}"),
}


def row_problem(error: roster.RowError, _: Gettext, locale: str) -> str:
    field = error.code.rsplit("_", 1)[0]
    detail = error.detail
    if error.code == "domain_mismatch":
        detail = roster.value_label("domain", detail, locale)
    if error.code == "kind_mismatch":
        detail = roster.value_label("kind", detail, locale)
    listed = roster.choices(field, locale) if field in roster.CHOICE_FIELDS else []
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
    """A bar per phase, on a terminal only: elsewhere rich would draw nothing but still
    end with an empty line, before the problems or the summary."""
    names = {"read": _("Reading"), "check": _("Checking"), "write": _("Writing")}
    console = err_console.rich()
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    tasks: dict[str, Any] = {}

    def update(phase: str, done: int, total: int) -> None:
        if phase not in tasks:
            tasks[phase] = bar.add_task(names[phase], total=total or None)
        bar.update(tasks[phase], completed=done, total=total or None)

    with bar:
        yield update


def row_ranges(rows: list[int], locale: str, limit: int = 12) -> str:
    """3, 4, 5, 9 -> "3–5, 9"; past `limit` ranges, how many more rows there are."""
    spans: list[list[int]] = []
    for row in sorted(set(rows)):
        if spans and row == spans[-1][1] + 1:
            spans[-1][1] = row
        else:
            spans.append([row, row])
    parts = [f"{a}–{b}" if b > a else str(a) for a, b in spans[:limit]]
    text = _list_sep(locale).join(parts)
    if len(spans) > limit:
        more = sum(b - a + 1 for a, b in spans[limit:])
        text += f" (+{more})"
    return text


def grouped(errors: list[roster.RowError]) -> list[tuple[roster.RowError, list[int]]]:
    """Rows with the same problem in the same column, in the order first met."""
    groups: dict[tuple, tuple[roster.RowError, list[int]]] = {}
    for e in errors:
        k = (e.column, e.code, e.value, e.other_row, e.detail, e.suggestion)
        groups.setdefault(k, (e, []))[1].append(e.row)
    return list(groups.values())


def column_label(error: roster.RowError, locale: str) -> str:
    """The column as the file heads it; a column the file lacks, in the message's language."""
    if error.column in roster.FIELDS:
        return roster.header_label(error.column, locale)
    org_headers = {
        "zh": {"path": "路径", "kind": "类型", "domain": "领域", "timezone": "时区"},
        "en": {},
    }["zh" if locale.startswith("zh") else "en"]
    return org_headers.get(error.column, error.column)


def problem_line(error: roster.RowError, rows: list[int], _: Gettext, locale: str) -> str:
    """One line per group: where, what, and a suggestion when there is a close match."""
    where = _("row {rows}") if len(rows) == 1 else _("rows {rows}")
    return _("{rows}, {column}: {problem}").format(
        rows=where.format(rows=row_ranges(rows, locale)),
        column=column_label(error, locale),
        problem=cell_comment(error, _, locale),
    )


def print_errors(errors: list[roster.RowError], _: Gettext, locale: str) -> None:
    """One line per group; on a terminal, wrapped by display width with an indent."""
    import shutil

    from bot.cli.table import wrap

    width = shutil.get_terminal_size().columns if err_console.stream.isatty() else 0
    for error, rows in grouped(errors):
        line = problem_line(error, rows, _, locale)
        if width >= 40:
            first = wrap(line, width)[0]
            rest = line[len(first) :].strip()
            line = "\n    ".join([first, *(wrap(rest, width - 4) if rest else [])])
        err_console.print(line)


def cell_comment(error: roster.RowError, _: Gettext, locale: str) -> str:
    text = row_problem(error, _, locale)
    if error.suggestion:
        suggest = _("{problem} — did you mean “{suggestion}”?")
        text = suggest.format(problem=text, suggestion=error.suggestion)
    return text


def write_error_sheet(
    source: Path,
    sheet: roster.RosterFile,
    errors: list[roster.RowError],
    out: Path,
    _: Gettext,
    locale: str,
) -> int:
    """The file as it came, with each bad cell filled red and a comment saying why.

    An .xlsx keeps its own formatting; a .csv comes back as a workbook with its cells.
    Returns the number of cells marked.
    """
    from openpyxl import Workbook, load_workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

    if source.suffix.lower() in (".xlsx", ".xlsm"):
        book = load_workbook(source)
        ws = book.worksheets[0]
    else:
        book = Workbook()
        ws = book.active
        for cells in roster.raw_rows(source):
            ws.append(list(cells))
    column_of = {sheet.label(f): index + 1 for f, index in sheet.indexes.items()}
    fill = PatternFill("solid", start_color="FFC7CE", end_color="FFC7CE")
    notes: dict[tuple[int, int], list[str]] = {}
    # A problem of a column the file lacks (a new branch's domain) goes on the branch.
    fallback = column_of.get(sheet.label("branch"), 1)
    for e in errors:
        column = column_of.get(e.column, fallback)
        notes.setdefault((e.row, column), []).append(cell_comment(e, _, locale))
    for (row, column), texts in notes.items():
        cell = ws.cell(row=row, column=column)
        cell.fill = fill
        cell.comment = Comment("\n".join(texts), "branchbot", width=320, height=120)
    book.save(out)
    return len(notes)
