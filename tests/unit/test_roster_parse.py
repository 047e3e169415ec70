"""Reading and checking roster files without a database."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.services import roster
from bot.services.roster import RosterFileError, check_rows, read_roster

HEADER_ZH = "姓名,所在党组织,人员类别,职务,手机号码,编号,状态,领域,入党日期"
BRANCH = "某某市委/某某镇党委/某某村党支部"


def write(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "r.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def codes(errors) -> list[tuple[int, str, str]]:
    return [(e.row, e.column, e.code) for e in errors]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings(tmp_path, encoding):
    text = f"{HEADER_ZH}\n张三,{BRANCH},农村社区党员,支部书记,13800138000,A1,正常,农村,2001-07-01\n"
    sheet = read_roster(write(tmp_path, text, encoding))
    assert sheet.columns["name"] == "姓名"
    rows, errors, _ = check_rows(sheet)
    assert errors == []
    assert rows[0].name == "张三" and rows[0].path == ("某某市委", "某某镇党委", "某某村党支部")
    assert (rows[0].category, rows[0].role, rows[0].status) == (
        "rural_community",
        "secretary",
        "active",
    )


def test_english_headers_values_tab_separated_and_title_row(tmp_path):
    text = (
        "Roster of the village branch\n"
        "Name\tBranch\tCategory\tRole\tPhone\tID\tStatus\tDomain\tJoined\tLanguage\n"
        f"Li Si\t{BRANCH}\ttwo new\torganising member\t+86 139-0013-9000\t7\ton leave\t"
        "two_new\t2010/3/5\tEnglish\n"
    )
    sheet = read_roster(write(tmp_path, text))
    assert sheet.header_row == 2
    [row], errors, _ = check_rows(sheet)
    assert errors == []
    assert row.row == 3
    assert (row.category, row.role, row.status, row.domain, row.locale) == (
        "two_new",
        "organiser",
        "on_leave",
        "two_new",
        "en",
    )
    assert row.phone == "13900139000" and row.joined_on == date(2010, 3, 5)


def test_every_bad_row_is_reported_with_row_and_column(tmp_path):
    text = (
        f"{HEADER_ZH}\n"
        f",{BRANCH},农村社区党员,,,,,,\n"  # row 2: no name
        "张三,,农村社区党员,,,,,,\n"  # row 3: no branch
        f"李四,{BRANCH},宇航员,,,,,,\n"  # row 4: unknown category
        f"王五,{BRANCH},流动党员,队长,1380013,,度假,火星,昨天\n"  # row 5: five problems
        f"赵六,{BRANCH},流动党员,支部书记,13800138000,A1,,,\n"
        f"钱七,{BRANCH},流动党员,书记,138 0013 8000,A1,,,\n"  # row 7: clashes with row 6
    )
    rows, errors, _ = check_rows(read_roster(write(tmp_path, text)))
    assert [r.row for r in rows] == [6, 7]
    assert sorted(codes(errors)) == [
        (2, "姓名", "name_missing"),
        (3, "所在党组织", "branch_missing"),
        (4, "人员类别", "category_unknown"),
        (5, "入党日期", "date_malformed"),
        (5, "手机号码", "phone_malformed"),
        (5, "状态", "status_unknown"),
        (5, "职务", "role_unknown"),
        (5, "领域", "domain_unknown"),
        (7, "手机号码", "phone_duplicate"),
        (7, "编号", "roster_no_duplicate"),
        (7, "职务", "secretary_duplicate"),
    ]
    bad_phone = next(e for e in errors if e.code == "phone_malformed")
    assert bad_phone.value == "1380013"


def test_clashes_between_rows_name_the_other_row(tmp_path):
    text = (
        f"{HEADER_ZH}\n"
        f"赵六,{BRANCH},流动党员,支部书记,13800138000,A1,,农村,\n"
        f"钱七,{BRANCH},流动党员,书记,138 0013 8000,A1,,社区,\n"
        f"孙八,{BRANCH}/第一党小组,流动党员,,,,,,\n"
    )
    rows, errors, _ = check_rows(read_roster(write(tmp_path, text)))
    found = {(e.row, e.code, e.other_row) for e in errors}
    assert found == {
        (3, "phone_duplicate", 2),
        (3, "roster_no_duplicate", 2),
        (3, "secretary_duplicate", 2),
        (3, "domain_conflict", 2),
    }
    assert len(rows) == 3


def test_missing_columns_named_at_once(tmp_path):
    with pytest.raises(RosterFileError) as err:
        read_roster(write(tmp_path, "姓名,手机号码\n张三,13800138000\n"))
    assert err.value.code == "roster.missing_columns"
    assert err.value.params["columns"] == ["branch", "category"]


def test_duplicate_column(tmp_path):
    with pytest.raises(RosterFileError) as err:
        read_roster(write(tmp_path, "姓名,所在支部,党组织,类别\n"))
    assert err.value.code == "roster.duplicate_column"
    assert err.value.params["columns"] == ["所在支部", "党组织"]


@pytest.mark.parametrize(
    ("data", "name", "code"),
    [
        ("姓名,所在支部\n".encode("utf-16"), "r.csv", "roster.encoding"),
        (b"\x00\x01\x02garbage\xff\xfe", "r.csv", "roster.encoding"),
        (b"PK\x03\x04rest", "r.csv", "roster.xlsx_as_csv"),
        (b"not a zip at all", "r.xlsx", "roster.unreadable"),
        (b"", "r.csv", "roster.empty"),
        (b"x", "r.xls", "roster.file_type"),
        (b"x", "r.pdf", "roster.file_type"),
    ],
)
def test_unreadable_files(tmp_path, data, name, code):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(RosterFileError) as err:
        read_roster(path)
    assert err.value.code == code


def test_xlsx_typed_cells(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["编号", "姓名", "所在支部", "人员类别", "手机号码", "入党日期"])
    sheet.append([1001, "张三", BRANCH, "机关党员", 13800138000, datetime(2001, 7, 1)])
    sheet.append([None, None, None, None, None, None])  # blank rows are skipped
    path = tmp_path / "r.xlsx"
    book.save(path)
    [row], errors, _ = check_rows(read_roster(path))
    assert errors == []
    assert (row.roster_no, row.phone, row.joined_on, row.category) == (
        "1001",
        "13800138000",
        date(2001, 7, 1),
        "agency",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13800138000", "13800138000"),
        ("+86 138-0013-8000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("(138)00138000", "13800138000"),
        ("1380013", None),
        ("23800138000", None),
        ("138001380001", None),
        ("0731-8888888", None),
    ],
)
def test_normalize_phone(text, expected):
    assert roster.normalize_phone(text) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2020-03-15", date(2020, 3, 15)),
        ("2020/3/5", date(2020, 3, 5)),
        ("2020.03.15", date(2020, 3, 15)),
        ("2020年3月15日", date(2020, 3, 15)),
        ("20200315", date(2020, 3, 15)),
        ("2020年3月", date(2020, 3, 1)),
        ("2020-03-15 00:00:00", date(2020, 3, 15)),
        ("2020-02-30", None),
        ("yesterday", None),
    ],
)
def test_parse_date(value, expected):
    assert roster.parse_date(value) == expected


@given(st.from_regex(r"1[0-9]{10}", fullmatch=True))
def test_phone_round_trips_through_formatting(number):
    shown = f"+86 {number[:3]}-{number[3:7]}-{number[7:]}"
    assert roster.normalize_phone(shown) == number


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_label_reads_back(lang):
    for field in ("domain", "category", "role", "status", "language"):
        for word in roster.choices(field, lang):
            assert (
                roster._key(word)
                in {
                    "domain": roster._DOMAIN_LOOKUP,
                    "category": roster._CATEGORY_LOOKUP,
                    "role": roster._ROLE_LOOKUP,
                    "status": roster._STATUS_LOOKUP,
                    "language": roster._LANGUAGE_LOOKUP,
                }[field]
            )
