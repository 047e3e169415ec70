"""Roster import and export: a city's members from one spreadsheet, all or nothing.

Reading (`read_roster`) turns a .xlsx or .csv into raw cells under canonical field
names; checking (`plan_import`) validates every row and compares it with the
database without writing, collecting *all* problems as `RowError`s; writing
(`apply_plan`) happens only when there are none. `import_roster` chains the two.
Nothing here commits: the caller owns the transaction.

Matching rules (re-importing the same file changes nothing):
- a row updates the member with its roster number, else the member with its phone,
  else the only member of that name in that branch (one with no phone or number of
  its own, if the row has either); otherwise it creates a member;
- an empty cell in an optional column means "not given": it never clears a value,
  and a missing optional column leaves that field alone on update;
- the domain column is used only to create branches; a branch that already exists
  in another domain is reported rather than silently kept or changed;
- a new top-level organisation is created only into an empty tree, so that a typo
  in the city's name cannot start a second city.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import unicodedata
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    Member,
    MemberStatus,
    Organisation,
    OrgKind,
    Role,
)
from bot.services import audit, orgs, safetext, vocabulary
from bot.services.audit import Actor
from bot.services.errors import ServiceError

# Progress callback: (phase, done, total); total is 0 when unknown.
Progress = Callable[[str, int, int], None]

# Canonical fields, in the order the exported sheet shows them.
FIELDS = (
    "roster_no",
    "name",
    "branch",
    "domain",
    "category",
    "role",
    "status",
    "phone",
    "joined",
    "language",
)
REQUIRED = ("name", "branch", "category")

HEADERS = {
    "zh": {
        "roster_no": "编号",
        "name": "姓名",
        "branch": "所在党组织",
        "domain": "领域",
        "category": "人员类别",
        "role": "职务",
        "status": "状态",
        "phone": "手机号码",
        "joined": "入党日期",
        "language": "语言",
    },
    "en": {f: f for f in FIELDS} | {"roster_no": "id"},
}

_HEADER_LOOKUP = vocabulary.lookup(vocabulary.HEADER_WORDS)
_CATEGORY_LOOKUP = vocabulary.LOOKUPS["category"]
_ROLE_LOOKUP = vocabulary.LOOKUPS["role"]
_STATUS_LOOKUP = vocabulary.LOOKUPS["status"]
_DOMAIN_LOOKUP = vocabulary.LOOKUPS["domain"]
_LANGUAGE_LOOKUP = vocabulary.LOOKUPS["language"]
_key = vocabulary.key

MAX_NAME = 100
MAX_ROSTER_NO = 64
# Under SQLite's historical 999-variable limit, with room for other parameters.
IN_CHUNK = 500
WRITE_CHUNK = 2000
_HEADER_SEARCH_ROWS = 10


# --------------------------------------------------------------------------- errors


@dataclass(frozen=True)
class RowError:
    """One problem in one cell: `row` as the spreadsheet numbers it (header is row 1
    unless the sheet has a title above it), `column` as the file's header writes it."""

    row: int
    column: str
    code: str
    value: str = ""
    other_row: int | None = None
    detail: str = ""
    suggestion: str = ""  # a close accepted word or existing name: "did you mean …?"


class RosterFileError(ServiceError):
    """The file as a whole cannot be read: type, encoding, damage, missing columns."""


class RosterInvalid(ServiceError):
    def __init__(self, errors: Sequence[RowError]) -> None:
        super().__init__("roster.invalid", count=len(errors))
        self.errors = list(errors)


# --------------------------------------------------------------------------- reading


@dataclass
class RosterFile:
    name: str
    header_row: int
    columns: dict[str, str]  # canonical field -> header as written in the file
    rows: list[tuple[int, dict[str, Any]]]  # (spreadsheet row, field -> raw cell)
    indexes: dict[str, int] = field(default_factory=dict)  # field -> 0-based column
    examples: list[int] = field(default_factory=list)  # the template's example rows, skipped

    def label(self, field_name: str) -> str:
        return self.columns.get(field_name, field_name)


def read_roster(path: str | Path, progress: Progress | None = None) -> RosterFile:
    """The roster's rows, less the template's example row if it was left in (`examples`
    names the rows skipped, for the report)."""
    sheet = read_sheet(path, progress, _HEADER_LOOKUP, REQUIRED)
    kept = []
    for number, values in sheet.rows:
        if is_example(values):
            sheet.examples.append(number)
        else:
            kept.append((number, values))
    sheet.rows = kept
    return sheet


# The template's example row, in each language. A row with its name, its made-up branch
# path and its phone number is the example left in, never a member.
EXAMPLE = {
    "zh": ["A0001", "张三", "某某市委/某某镇党委/某某村党支部", "农村", "农村社区党员",
           "党员", "正常", "13800000000", date(2020, 3, 15), "中文"],
    "en": ["A0001", "Zhang San", "City committee/Town committee/Village branch", "village",
           "rural_community", "member", "active", "13800000000", date(2020, 3, 15), "en"],
}  # fmt: skip
_EXAMPLE_FIELDS = ("name", "branch", "phone")
_EXAMPLE_KEYS = {tuple(row[FIELDS.index(f)] for f in _EXAMPLE_FIELDS) for row in EXAMPLE.values()}


def is_example(values: dict[str, Any]) -> bool:
    """Whether a row is the template's example (its name, branch and phone as the
    template writes them in either language; whatever else was changed in it)."""
    return tuple(_cell_text(values.get(f)) for f in _EXAMPLE_FIELDS) in _EXAMPLE_KEYS


def read_sheet(
    path: str | Path,
    progress: Progress | None,
    headers: dict[str, str],
    required: Sequence[str],
) -> RosterFile:
    """The first sheet of an .xlsx, or a .csv, as raw cells under the fields `headers`
    maps the header words to; `required` fields must have a column."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        raw, total = _xlsx_rows(path)
    elif suffix in (".csv", ".txt"):
        rows = _csv_rows(path)
        raw, total = iter(rows), len(rows)
    else:
        raise RosterFileError("roster.file_type", suffix=suffix or path.name)
    return _map_rows(path.name, raw, total, progress, headers, required)


def raw_rows(path: str | Path) -> list[list[str]]:
    """A CSV file's cells as written (for returning it annotated)."""
    return _csv_rows(Path(path))


def _xlsx_rows(path: Path) -> tuple[Iterator[tuple[Any, ...]], int]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        raise RosterFileError("roster.unreadable") from None
    sheet = book.worksheets[0] if book.worksheets else None
    if sheet is None:
        raise RosterFileError("roster.empty")

    def rows() -> Iterator[tuple[Any, ...]]:
        try:
            yield from sheet.iter_rows(values_only=True)
        except Exception:
            # The sheet's XML is damaged past the zip directory openpyxl checked.
            raise RosterFileError("roster.unreadable") from None
        finally:
            book.close()

    return rows(), sheet.max_row or 0


def _csv_rows(path: Path) -> list[list[str]]:
    data = path.read_bytes()
    text = _decode(data)
    # Sniffed over the first lines, not the first: a title row has no separators.
    head = text[:4096]
    delimiter = max(",\t;", key=head.count)
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 — a superset of the GBK Chinese Excel writes."""
    if data.startswith(b"PK\x03\x04"):
        raise RosterFileError("roster.xlsx_as_csv")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:4096]:
        # UTF-16 ("Unicode text") or a binary file: neither is a CSV we can trust.
        raise RosterFileError("roster.encoding")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for encoding in ("utf-8", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if not any(ord(c) < 32 and c not in "\t\r\n" for c in text):
            return text
    raise RosterFileError("roster.encoding")


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date()
    text = str(value).replace("\u200b", "").replace("\ufeff", "")
    return " ".join(text.split())


def _shown(value: Any) -> str:
    """A refused cell as a message can quote it: invisible characters as U+ codes."""
    text = str(value)[:30]
    return "".join(
        f"<U+{ord(c):04X}>" if unicodedata.category(c) in ("Cc", "Cf") else c for c in text
    )


def _map_header(cells: Sequence[Any], headers: dict[str, str]) -> dict[int, str]:
    found: dict[int, str] = {}
    for index, cell in enumerate(cells):
        field_name = headers.get(_key(_cell_text(cell)))
        if field_name:
            found[index] = field_name
    return found


def _map_rows(
    name: str,
    raw: Iterator[Sequence[Any]],
    total: int,
    progress: Progress | None,
    headers: dict[str, str],
    required: Sequence[str],
) -> RosterFile:
    # Chinese sheets often carry a title row ("XX支部党员花名册") above the header.
    header_row, header, seen = 0, None, []
    for number, cells in enumerate(raw, start=1):
        if not any(_cell_text(c) for c in cells):
            continue
        seen.append((number, cells))
        mapped = _map_header(cells, headers)
        if len(mapped) >= 2:
            header_row, header = number, (cells, mapped)
            break
        if len(seen) >= _HEADER_SEARCH_ROWS:
            break
    if header is None:
        if not seen:
            raise RosterFileError("roster.empty")
        raise RosterFileError("roster.missing_columns", columns=list(required))
    cells, mapped = header
    columns: dict[str, str] = {}
    for index, field_name in mapped.items():
        if field_name in columns:
            raise RosterFileError(
                "roster.duplicate_column",
                columns=[columns[field_name], _cell_text(cells[index])],
            )
        columns[field_name] = _cell_text(cells[index])
    missing = [f for f in required if f not in columns]
    if missing:
        raise RosterFileError("roster.missing_columns", columns=missing)
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, cells in enumerate(raw, start=header_row + 1):
        values = {f: cells[i] for i, f in mapped.items() if i < len(cells)}
        if any(_cell_text(v) for v in values.values()):
            rows.append((number, values))
        if progress and number % 1000 == 0:
            progress("read", number, total)
    if progress:
        progress("read", total or len(rows), total or len(rows))
    indexes = {f: i for i, f in mapped.items()}
    return RosterFile(name, header_row, columns, rows, indexes)


# --------------------------------------------------------------------------- checking rows


@dataclass(frozen=True)
class MemberRow:
    """A row whose cells are all valid; None means "not given"."""

    row: int
    path: tuple[str, ...]
    name: str
    category: str
    role: str | None = None
    status: str | None = None
    phone: str | None = None
    roster_no: str | None = None
    domain: str | None = None
    joined_on: date | None = None
    locale: str | None = None


_PHONE_NOISE = re.compile(r"[\s\-()（）]")
_PHONE = re.compile(r"^(?:\+?86)?(1\d{10})$")
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})(?:\s*[-/.月]\s*(\d{1,2})\s*日?|\s*月?)$")
_DATE_TIME_TAIL = re.compile(r"\s+\d{1,2}:\d{2}(:\d{2})?$")


def normalize_phone(text: str) -> str | None:
    """A Chinese mobile number as 11 digits, or None if it is not one."""
    match = _PHONE.match(_PHONE_NOISE.sub("", text))
    return match.group(1) if match else None


def parse_date(value: Any) -> date | None:
    """A date cell, or text such as 2020-03-15, 2020/3/15, 2020年3月15日, 20200315, 2020.03
    (a month alone, as party records often give it, means its first day)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _DATE_TIME_TAIL.sub("", _cell_text(value))
    if re.fullmatch(r"\d{8}", text):
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    match = _DATE.match(text)
    if not match:
        return None
    year, month, day = match.group(1), match.group(2), match.group(3) or "1"
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


class _RowChecker:
    """Checks one file's rows; every problem found is appended to `errors`."""

    def __init__(self, roster: RosterFile) -> None:
        self.roster = roster
        self.errors: list[RowError] = []
        # Rows refused for a cell whose branch path is still worth checking, so that
        # every problem of every row is reported in one go.
        self.partial: list[MemberRow] = []

    def error(self, row: int, field_name: str, code: str, value: Any = "", **kw: Any) -> None:
        label = self.roster.label(field_name)
        self.errors.append(RowError(row, label, code, _cell_text(value), **kw))

    def word(self, row: int, values: dict, field_name: str, table: dict[str, str]) -> str | None:
        text = _cell_text(values.get(field_name))
        if not text:
            return None
        found = table.get(_key(text))
        if found is None:
            suggestion = vocabulary.closest_word(field_name, text) or ""
            self.error(row, field_name, f"{field_name}_unknown", text, suggestion=suggestion)
        return found

    def check(self, number: int, values: dict[str, Any]) -> MemberRow | None:
        before = len(self.errors)
        name = safetext.strip_invisible(_cell_text(values.get("name")))
        problem = safetext.name_problem(str(values.get("name") or ""))
        if problem == "empty" or (not name and problem is None):
            self.error(number, "name", "name_missing")
        elif problem is not None:
            self.error(number, "name", f"name_{problem}", _shown(values.get("name")))
        elif len(name) > MAX_NAME:
            self.error(number, "name", "name_too_long", name[:20] + "…", detail=str(MAX_NAME))
        path = self.path(number, values)
        category = self.word(number, values, "category", _CATEGORY_LOOKUP)
        if category is None and not _cell_text(values.get("category")):
            self.error(number, "category", "category_missing")
        role = self.word(number, values, "role", _ROLE_LOOKUP)
        status = self.word(number, values, "status", _STATUS_LOOKUP)
        if status == MemberStatus.left.value:
            role = Role.member.value  # someone who left holds no role in the branch
        domain = self.word(number, values, "domain", _DOMAIN_LOOKUP)
        locale = self.word(number, values, "language", _LANGUAGE_LOOKUP)
        phone = None
        if phone_text := _cell_text(values.get("phone")):
            phone = normalize_phone(phone_text)
            if phone is None:
                self.error(number, "phone", "phone_malformed", phone_text)
        roster_no = safetext.strip_invisible(_cell_text(values.get("roster_no"))) or None
        problem = safetext.name_problem(str(values.get("roster_no") or ""))
        if problem in ("bidi", "formula"):
            self.error(number, "roster_no", f"roster_no_{problem}", _shown(values["roster_no"]))
        elif roster_no and len(roster_no) > MAX_ROSTER_NO:
            self.error(number, "roster_no", "roster_no_too_long", roster_no[:20] + "…")
        joined = None
        if _cell_text(values.get("joined")):
            joined = parse_date(values["joined"])
            if joined is None:
                self.error(number, "joined", "date_malformed", values["joined"])
        if len(self.errors) > before or path is None or category is None:
            if path is not None:
                self.partial.append(MemberRow(number, path, name, category or "", domain=domain))
            return None
        return MemberRow(
            number, path, name, category, role, status, phone, roster_no, domain, joined, locale
        )

    def path(self, number: int, values: dict[str, Any]) -> tuple[str, ...] | None:
        text = _cell_text(values.get("branch"))
        if not text:
            self.error(number, "branch", "branch_missing")
            return None
        try:
            parts = orgs.split_path(text)
            for part in parts:
                orgs.clean_name(part)
        except ServiceError as err:
            code = "path_formula" if err.code == "name.formula" else "branch_bad_path"
            self.error(number, "branch", code, text)
            return None
        return parts


def _first_rows(rows: Iterable[MemberRow], key: Callable[[MemberRow], Any]) -> dict[Any, int]:
    first: dict[Any, int] = {}
    for r in rows:
        k = key(r)
        if k is not None:
            first.setdefault(k, r.row)
    return first


def check_rows(
    roster: RosterFile,
) -> tuple[list[MemberRow], list[RowError], list[MemberRow]]:
    """Every check that needs no database: cell values and clashes between rows.

    Returns the valid rows, the problems, and the refused rows whose path is readable."""
    checker = _RowChecker(roster)
    rows = [r for n, v in roster.rows if (r := checker.check(n, v)) is not None]
    err = checker.error

    def once(key: Callable[[MemberRow], Any], field_name: str, code: str) -> None:
        first: dict[Any, int] = {}
        for r in rows:
            k = key(r)
            if k is None:
                continue
            if k in first:
                err(r.row, field_name, code, k[-1] if isinstance(k, tuple) else k,
                    other_row=first[k])  # fmt: skip
            else:
                first[k] = r.row

    once(lambda r: r.phone, "phone", "phone_duplicate")
    once(lambda r: r.roster_no, "roster_no", "roster_no_duplicate")
    once(lambda r: r.path if r.role == Role.secretary else None, "role", "secretary_duplicate")
    domains: dict[tuple[str, ...], tuple[str, int]] = {}
    for r in rows:
        if r.domain is None:
            continue
        seen = domains.setdefault(r.path, (r.domain, r.row))
        if seen[0] != r.domain:
            err(r.row, "domain", "domain_conflict", r.domain, other_row=seen[1])
    return rows, checker.errors, checker.partial


# --------------------------------------------------------------------------- planning


_MEMBER_COLUMNS = (
    Member.id,
    Member.org_id,
    Member.name,
    Member.category,
    Member.role,
    Member.status,
    Member.phone,
    Member.roster_no,
    Member.locale,
    Member.joined_on,
)
# Row attribute -> Member column, for the fields an import may set.
_WRITABLE = {
    "name": "name",
    "category": "category",
    "role": "role",
    "status": "status",
    "phone": "phone",
    "roster_no": "roster_no",
    "locale": "locale",
    "joined_on": "joined_on",
}


@dataclass
class _Orgs:
    """The tree as loaded once: enough to classify every path in the file."""

    by_key: dict[tuple[int | None, str], Any]
    by_id: dict[int, Any]

    @classmethod
    async def load(cls, session: AsyncSession) -> _Orgs:
        rows = await session.execute(
            select(
                Organisation.id,
                Organisation.parent_id,
                Organisation.name,
                Organisation.kind,
                Organisation.domain,
            )
        )
        all_rows = rows.all()
        return cls({(o.parent_id, o.name): o for o in all_rows}, {o.id: o for o in all_rows})

    def roots(self) -> list[str]:
        return sorted(name for parent, name in self.by_key if parent is None)

    def branch_names(self) -> list[str]:
        return sorted({n for (_, n), o in self.by_key.items() if o.kind == OrgKind.branch})

    def branches_named(self, name: str) -> list[Any]:
        return [o for (_, n), o in self.by_key.items() if n == name and o.kind == OrgKind.branch]


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    orgs_created: int = 0


@dataclass
class ImportPlan:
    """What an import would do; `errors` non-empty means it must not be applied."""

    errors: list[RowError] = field(default_factory=list)
    rows: int = 0
    creates: list[tuple[MemberRow, int | None]] = field(default_factory=list)
    updates: list[tuple[MemberRow, int, dict[str, Any], dict[str, Any]]] = field(
        default_factory=list
    )  # (row, member id, old values, new values) of the changed fields only
    unchanged: int = 0
    new_orgs: int = 0
    new_paths: dict[tuple[str, ...], str] = field(default_factory=dict)  # path -> domain
    org_ids: dict[tuple[str, ...], int] = field(default_factory=dict)

    @property
    def summary(self) -> ImportSummary:
        return ImportSummary(len(self.creates), len(self.updates), self.unchanged, self.new_orgs)


async def plan_import(
    session: AsyncSession, roster: RosterFile, progress: Progress | None = None
) -> ImportPlan:
    """Validate every row and decide what each one does, reading but never writing."""
    rows, errors, partial = check_rows(roster)
    plan = ImportPlan(errors=errors, rows=len(roster.rows))
    label = roster.label
    tree = await _Orgs.load(session)
    refused = _classify_paths(tree, rows, plan, label, partial)
    bad = {e.row for e in plan.errors}
    rows = [r for r in rows if r.row not in bad and r.path not in refused]
    existing = await _load_members(session, rows, plan.org_ids)
    by_no = {m.roster_no: m for m in existing if m.roster_no}
    by_phone = {m.phone: m for m in existing if m.phone}
    by_name: dict[tuple[int, str], list[Any]] = defaultdict(list)
    for m in existing:
        by_name[(m.org_id, m.name)].append(m)
    claimed: dict[int, int] = {}
    keyless: dict[tuple[Any, str], int] = {}
    for done, r in enumerate(rows, start=1):
        if progress and done % 1000 == 0:
            progress("check", done, len(rows))
        org_id = plan.org_ids.get(r.path)
        if not (r.phone or r.roster_no):
            # Two rows with neither phone nor number and one name in one branch cannot
            # be told apart on the next import: the same person twice, or two to key.
            first = keyless.setdefault((org_id or r.path, r.name), r.row)
            if first != r.row:
                plan.errors.append(RowError(r.row, label("name"), "person_duplicate", r.name,
                                            first))  # fmt: skip
                continue
        target = _match(r, org_id, by_no, by_phone, by_name, plan, label)
        if target is False:
            continue
        if target is not None and target.id in claimed:
            plan.errors.append(
                RowError(r.row, label("name"), "member_twice", target.name, claimed[target.id])
            )
            continue
        if target is None:
            plan.creates.append((r, org_id))
            continue
        claimed[target.id] = r.row
        new = _wanted(r)
        old = {k: getattr(target, k) for k in new}
        if org_id != target.org_id:
            new["org_id"], old["org_id"] = org_id, target.org_id
        changed = {k for k in new if new[k] != old[k]}
        if changed:
            plan.updates.append((r, target.id, {k: old[k] for k in changed},
                                 {k: new[k] for k in changed}))  # fmt: skip
        else:
            plan.unchanged += 1
    if progress:
        progress("check", len(rows), len(rows))
    plan.errors.sort(key=lambda e: (e.row, e.column))
    return plan


def _classify_paths(
    tree: _Orgs,
    valid: list[MemberRow],
    plan: ImportPlan,
    label: Callable[[str], str],
    partial: Sequence[MemberRow] = (),
) -> set[tuple[str, ...]]:
    """Map each branch path to an existing branch or to one to create, or report why not.

    `partial` rows (refused for another cell) are checked too, so that their path's
    problem is reported with the rest."""
    rows = sorted([*valid, *partial], key=lambda r: r.row)
    first = _first_rows(rows, lambda r: r.path)
    domains = {r.path: r.domain for r in rows if r.domain}
    new_roots = {r.path[0] for r in rows if (None, r.path[0]) not in tree.by_key}
    problems: dict[tuple[str, ...], RowError] = {}
    # Rows whose domain is a word no table has: that is their one problem with the
    # domain, not a missing one as well.
    worded = {e.row for e in plan.errors if e.code == "domain_unknown"}
    column = label("branch")
    # Paths other rows put organisations under: such a path cannot be a new branch.
    under = {r.path[:d]: r.row for r in rows for d in range(1, len(r.path))}
    for path, row in first.items():
        text = "/".join(path)
        node, depth = None, 0
        for depth, name in enumerate(path):
            child = tree.by_key.get((node.id if node else None, name))
            if child is None:
                break
            if child.kind == OrgKind.branch and depth < len(path) - 1:
                problems[path] = RowError(row, column, "branch_under_branch", text, detail=name)
                break
            node = child
        else:
            if node.kind != OrgKind.branch:
                problems[path] = RowError(row, column, "branch_is_committee", text)
            else:
                plan.org_ids[path] = node.id
            continue
        if path in problems:
            continue
        if len(path) == 1:
            # A bare branch name, as a secretary might type it: fine if it is unique.
            named = tree.branches_named(path[0])
            if len(named) == 1:
                plan.org_ids[path] = named[0].id
            else:
                code = "branch_ambiguous" if named else "branch_unknown"
                near = "" if named else vocabulary.did_you_mean(path[0], tree.branch_names())
                problems[path] = RowError(row, column, code, text, suggestion=near or "")
        elif node is None and tree.by_key:
            near = vocabulary.did_you_mean(path[0], tree.roots()) or ""
            problems[path] = RowError(
                row, column, "root_unknown", path[0], detail=", ".join(tree.roots()),
                suggestion=near,
            )  # fmt: skip
        elif node is None and len(new_roots) > 1:
            problems[path] = RowError(row, column, "root_several", path[0])
        elif path in under:
            problems[path] = RowError(
                row, column, "branch_used_as_committee", text, other_row=under[path]
            )
        elif path not in domains:
            # Most often a misspelt branch under a committee that exists: say which.
            siblings = [n for (p, n) in tree.by_key if node is not None and p == node.id]
            near = vocabulary.did_you_mean(path[-1], siblings) or ""
            problems[path] = RowError(
                row, label("domain"), "domain_required", text, suggestion=near
            )
        else:
            plan.new_paths[path] = domains[path]
    for r in rows:
        org_id = plan.org_ids.get(r.path)
        if r.domain and org_id is not None and tree.by_id[org_id].domain != r.domain:
            plan.errors.append(RowError(r.row, label("domain"), "domain_mismatch", r.domain,
                                        detail=tree.by_id[org_id].domain))  # fmt: skip
    # Reported on every row of the path; the report groups them into one line
    # ("rows 3–30, 41") so that thirty members do not bury every other problem.
    plan.errors.extend(
        dataclasses.replace(problems[r.path], row=r.row)
        for r in rows
        if r.path in problems
        and not (problems[r.path].code == "domain_required" and r.row in worded)
    )
    plan.new_orgs = len(
        {p[:d] for p in plan.new_paths for d in range(1, len(p) + 1)} - _existing_prefixes(tree)
    )
    return set(problems)


def _existing_prefixes(tree: _Orgs) -> set[tuple[str, ...]]:
    paths: dict[int, tuple[str, ...]] = {}

    def path_of(org: Any) -> tuple[str, ...]:
        if org.id not in paths:
            parent = tree.by_id.get(org.parent_id)
            paths[org.id] = (path_of(parent) if parent else ()) + (org.name,)
        return paths[org.id]

    return {path_of(o) for o in tree.by_id.values()}


async def _load_members(
    session: AsyncSession, rows: list[MemberRow], org_ids: dict[tuple[str, ...], int]
) -> list[Any]:
    """Every member a row could update, in a few chunked IN queries."""
    found: dict[int, Any] = {}

    async def by(column: Any, keys: Iterable[Any], *extra: Any) -> None:
        keys = sorted(set(keys))
        for start in range(0, len(keys), IN_CHUNK):
            chunk = keys[start : start + IN_CHUNK]
            result = await session.execute(
                select(*_MEMBER_COLUMNS).where(column.in_(chunk), *extra)
            )
            found.update((m.id, m) for m in result.all())

    await by(Member.roster_no, (r.roster_no for r in rows if r.roster_no))
    await by(Member.phone, (r.phone for r in rows if r.phone))
    # Without None: a row with no number (or no phone) is not "matched" by a member
    # that has none either; it is looked up by name below.
    numbers = {m.roster_no for m in found.values() if m.roster_no}
    phones = {m.phone for m in found.values() if m.phone}
    unmatched = [
        r
        for r in rows
        if r.path in org_ids and r.roster_no not in numbers and r.phone not in phones
    ]
    if unmatched:
        await by(Member.name, (r.name for r in unmatched),
                 Member.org_id.in_({org_ids[r.path] for r in unmatched}))  # fmt: skip
    return list(found.values())


def _match(
    r: MemberRow,
    org_id: int | None,
    by_no: dict[str, Any],
    by_phone: dict[str, Any],
    by_name: dict[tuple[int, str], list[Any]],
    plan: ImportPlan,
    label: Callable[[str], str],
) -> Any:
    """The member this row updates, None to create one, False after reporting a clash."""
    target = by_no.get(r.roster_no) if r.roster_no else None
    owner = by_phone.get(r.phone) if r.phone else None
    if target is None and owner is not None:
        if r.roster_no and owner.roster_no and owner.roster_no != r.roster_no:
            plan.errors.append(RowError(r.row, label("roster_no"), "roster_no_conflict",
                                        r.roster_no, detail=owner.roster_no))  # fmt: skip
            return False
        if owner.name != r.name:
            # Only the phone ties this row to that member: with another name it is far
            # likelier a mistyped phone than a rename, and taking it would silently
            # rename that member (and drop their role). A rename goes by roster number.
            plan.errors.append(RowError(r.row, label("phone"), "phone_taken", r.phone,
                                        detail=owner.name))  # fmt: skip
            return False
        return owner
    if owner is not None and owner.id != target.id:
        plan.errors.append(
            RowError(r.row, label("phone"), "phone_taken", r.phone, detail=owner.name)
        )
        return False
    if target is None and org_id is not None:
        # Found by nothing else: the only member of that name in the branch, provided
        # that member has no phone or number of its own this row could contradict.
        same = by_name.get((org_id, r.name), [])
        if r.roster_no or r.phone:
            same = [m for m in same if not (m.roster_no or m.phone)]
        return same[0] if len(same) == 1 else None
    return target


def _wanted(r: MemberRow) -> dict[str, Any]:
    """The values this row sets on an existing member: only what the file gives."""
    values = {k: getattr(r, k) for k in _WRITABLE}
    return {k: v for k, v in values.items() if v is not None}


# --------------------------------------------------------------------------- writing


async def apply_plan(
    session: AsyncSession,
    plan: ImportPlan,
    *,
    actor: Actor,
    now: datetime,
    progress: Progress | None = None,
) -> ImportSummary:
    if plan.errors:
        raise RosterInvalid(plan.errors)
    total = len(plan.creates) + len(plan.updates)
    if plan.new_paths:
        created = await orgs.resolve_paths(
            session, plan.new_paths, create=True, actor=actor, now=now, leaf_domains=plan.new_paths
        )
        plan.org_ids.update({p: o.id for p, o in created.items()})
    log: list[tuple[str, int, str, dict[str, Any]]] = []
    done = 0
    for start in range(0, len(plan.updates), WRITE_CHUNK):
        chunk = plan.updates[start : start + WRITE_CHUNK]
        for r, _, _, new in chunk:
            if "org_id" in new and new["org_id"] is None:
                new["org_id"] = plan.org_ids[r.path]
        await session.execute(
            update(Member), [{"id": mid, **new, "updated_at": now} for _, mid, _, new in chunk]
        )
        # Cards shown before the import are stale (see members.update_member).
        await session.execute(
            update(Member)
            .where(Member.id.in_([mid for _, mid, _, _ in chunk]))
            .values(version=Member.version + 1)
            .execution_options(synchronize_session=False)
        )
        log.extend(("member", mid, "update", audit.diff(old, new)) for _, mid, old, new in chunk)
        done += len(chunk)
        if progress:
            progress("write", done, total)
    for start in range(0, len(plan.creates), WRITE_CHUNK):
        chunk = plan.creates[start : start + WRITE_CHUNK]
        values = [_new_member(r, org_id or plan.org_ids[r.path], now) for r, org_id in chunk]
        # Batched multi-row INSERT … RETURNING in no promised order: asking for
        # parameter order makes SQLite fall back to one statement per row, so each
        # new id is matched back through the row's identity (unique, see plan_import).
        table = Member.__table__
        c = table.c
        result = await session.execute(
            insert(table).returning(c.id, c.roster_no, c.phone, c.org_id, c.name), values
        )
        ids = {tuple(row[1:]): row[0] for row in result.all()}
        for v in values:
            member_id = ids[(v["roster_no"], v["phone"], v["org_id"], v["name"])]
            log.append(("member", member_id, "create", _created(v)))
        done += len(chunk)
        if progress:
            progress("write", done, total)
    await audit.record_many(session, actor, now, log)
    return plan.summary


def _new_member(r: MemberRow, org_id: int, now: datetime) -> dict[str, Any]:
    return {
        "org_id": org_id,
        "name": r.name,
        "category": r.category,
        "role": r.role or Role.member.value,
        "status": r.status or MemberStatus.active.value,
        "phone": r.phone,
        "roster_no": r.roster_no,
        "locale": r.locale,
        "joined_on": r.joined_on,
        "created_at": now,
        "updated_at": now,
    }


def _created(values: dict[str, Any]) -> dict[str, list[Any]]:
    # Built directly rather than through audit.diff: this runs 26,000 times.
    return {
        k: [None, v.isoformat() if isinstance(v, date) else v]
        for k, v in values.items()
        if v is not None and k not in ("created_at", "updated_at")
    }


async def import_roster(
    session: AsyncSession,
    roster: RosterFile,
    *,
    actor: Actor,
    now: datetime,
    progress: Progress | None = None,
) -> ImportSummary:
    """Validate then write, all or nothing; raises RosterInvalid with every error."""
    plan = await plan_import(session, roster, progress)
    return await apply_plan(session, plan, actor=actor, now=now, progress=progress)


# --------------------------------------------------------------------------- export


@dataclass(frozen=True)
class RosterRecord:
    """One member as the sheet shows it (enum values, not labels)."""

    roster_no: str | None
    name: str
    branch: str
    domain: str | None
    category: str
    role: str
    status: str
    phone: str | None
    joined: date | None
    language: str | None


_ROLE_ORDER = {Role.secretary.value: 0, Role.organiser.value: 1}


async def export_rows(
    session: AsyncSession, root: Organisation | None = None
) -> list[RosterRecord]:
    """Members of `root`'s subtree (everyone without a root), branch by branch."""
    stmt = select(Organisation)
    if root is not None:
        stmt = stmt.where(Organisation.path.startswith(root.path))
    tree = (await session.execute(stmt)).scalars().all()
    names = await orgs.names_on_path(session, tree)
    by_id = {o.id: o for o in tree}
    members = select(*_MEMBER_COLUMNS).join(Organisation, Organisation.id == Member.org_id)
    if root is not None:
        members = members.where(Organisation.path.startswith(root.path))
    records = [
        RosterRecord(
            roster_no=m.roster_no,
            name=m.name,
            branch=names[m.org_id],
            domain=by_id[m.org_id].domain,
            category=m.category,
            role=m.role,
            status=m.status,
            phone=m.phone,
            joined=m.joined_on,
            language=m.locale,
        )
        for m in (await session.execute(members)).all()
    ]
    records.sort(key=lambda r: (r.branch, _ROLE_ORDER.get(r.role, 2), r.roster_no or "", r.name))
    return records


_LABELS = vocabulary.FIELD_WORDS
CHOICE_FIELDS = frozenset(_LABELS)


def _lang(lang: str) -> str:
    return "zh" if lang.startswith("zh") else "en"


def value_label(field_name: str, value: Any, lang: str) -> Any:
    """How the sheet writes an enum value: the Chinese word in Chinese, else the value."""
    if value is None:
        return None
    words = _LABELS.get(field_name)
    if words is None or _lang(lang) != "zh":
        return value
    return next((ws[0] for v, ws in words.items() if str(v) == value), value)


def choices(field_name: str, lang: str) -> list[str]:
    """The accepted values of an enum column, as the sheet in `lang` writes them."""
    return [value_label(field_name, str(v), lang) for v in _LABELS[field_name]]


def header_label(field_name: str, lang: str) -> str:
    return HEADERS[_lang(lang)].get(field_name, field_name)


def write_xlsx(
    records: Iterable[RosterRecord], path: str | Path, lang: str = "zh", title: str | None = None
) -> int:
    """Write the sheet `read_roster` reads back; returns the number of members written."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    lang = _lang(lang)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title or ("党员花名册" if lang == "zh" else "Roster"))
    widths = {"branch": 48, "name": 14, "category": 20, "domain": 16, "phone": 16, "joined": 12}
    for index, f in enumerate(FIELDS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = widths.get(f, 12)
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for f in FIELDS:
        cell = WriteOnlyCell(sheet, HEADERS[lang][f])
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    count = 0
    for r in records:
        row: list[Any] = []
        for f in FIELDS:
            value = value_label(f, getattr(r, f), lang)
            if isinstance(value, date):
                cell = WriteOnlyCell(sheet, value)
                cell.number_format = "yyyy-mm-dd"
                value = cell
            row.append(safetext.xlsx_cell(sheet, value))
        sheet.append(row)
        count += 1
    book.save(path)
    return count


def write_csv(records: Iterable[RosterRecord], path: str | Path, lang: str = "zh") -> int:
    """The same columns as `write_xlsx`, as UTF-8 CSV with a BOM (so Excel reads the
    Chinese right), every text cell through `safetext.csv_cell`; returns the count."""
    lang = _lang(lang)
    count = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([HEADERS[lang][f] for f in FIELDS])
        for r in records:
            row = []
            for f in FIELDS:
                value = value_label(f, getattr(r, f), lang)
                row.append(
                    value.isoformat() if isinstance(value, date) else safetext.csv_cell(value)
                )
            writer.writerow(row)
            count += 1
    return count


def write_template(
    path: str | Path, lang: str = "zh", notes: Sequence[tuple[str, str, str]] = ()
) -> None:
    """An empty roster to fill in: the header, one example row, and (on a second sheet)
    what each column takes. The example row is valid, and skipped when imported."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    lang = _lang(lang)
    book = Workbook()
    sheet = book.active
    sheet.title = "党员花名册" if lang == "zh" else "Roster"
    sheet.append([HEADERS[lang][f] for f in FIELDS])
    sheet.append(EXAMPLE[lang])
    sheet.cell(row=2, column=FIELDS.index("joined") + 1).number_format = "yyyy-mm-dd"
    # Grey italics: it reads as a sample; the import recognises and skips it if left in.
    for cell in sheet[2]:
        cell.font = Font(italic=True, color="808080")
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, f in enumerate(FIELDS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = 40 if f == "branch" else 16
    sheet.freeze_panes = "A2"
    if notes:
        about = book.create_sheet("说明" if lang == "zh" else "Notes")
        for row in notes:
            about.append(list(row))
        for cell in about[1]:
            cell.font = Font(bold=True)
        about.column_dimensions["A"].width = 16
        about.column_dimensions["B"].width = 12
        about.column_dimensions["C"].width = 90
    book.save(path)
