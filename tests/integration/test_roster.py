"""Roster import and export against a real database (SQLite, and PostgreSQL when set)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from bot.db.models import AuditLog, Member, Organisation
from bot.services import orgs, roster
from bot.services.audit import Actor
from bot.services.roster import ImportSummary, RosterInvalid

NOW = datetime(2026, 7, 1, tzinfo=UTC)
ACTOR = Actor(None, "import roster test")
HEADER = "编号,姓名,所在党组织,领域,人员类别,职务,状态,手机号码,入党日期"
VILLAGE = "某某市委/某某镇党委/某某村党支部"
COMMUNITY = "某某市委/某某街道党工委/幸福社区党支部"
ROSTER = (
    f"{HEADER}\n"
    f"A001,张三,{VILLAGE},农村,农村社区党员,支部书记,正常,13800138000,2001-07-01\n"
    f"A002,李四,{VILLAGE},,流动党员,党员,流动,139-0013-9000,2010年3月\n"
    f",王五,{VILLAGE},,农村社区党员,组织委员,,,\n"
    f"B001,赵六,{COMMUNITY},城市社区,城市社区党员,书记,请假,+86 13700137000,\n"
)


def csv_file(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "r.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


async def run(session, path: Path) -> ImportSummary:
    summary = await roster.import_roster(session, roster.read_roster(path), actor=ACTOR, now=NOW)
    await session.commit()
    return summary


async def count(session, model) -> int:
    return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def members(session) -> dict[str, Member]:
    session.expire_all()
    return {m.name: m for m in (await session.execute(select(Member))).scalars()}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
async def test_import_creates_tree_and_members_then_reimport_changes_nothing(
    session, tmp_path, encoding
):
    path = csv_file(tmp_path, ROSTER, encoding)
    assert await run(session, path) == ImportSummary(4, 0, 0, orgs_created=5)
    people = await members(session)
    zhang, li = people["张三"], people["李四"]
    assert (zhang.role, zhang.category, zhang.phone, zhang.joined_on) == (
        "secretary",
        "rural_community",
        "13800138000",
        date(2001, 7, 1),
    )
    assert (li.status, li.phone, li.joined_on) == ("mobile", "13900139000", date(2010, 3, 1))
    branch = await orgs.find_by_path(session, VILLAGE)
    assert branch is not None and branch.kind == "branch" and branch.domain == "village"
    assert zhang.org_id == branch.id and people["王五"].org_id == branch.id
    town = await orgs.find_by_path(session, "某某市委/某某镇党委")
    assert town is not None and town.kind == "committee"

    audits = (await session.execute(select(AuditLog))).scalars().all()
    assert sorted((a.entity, a.action) for a in audits) == sorted(
        [("organisation", "create")] * 5 + [("member", "create")] * 4
    )
    created = next(a for a in audits if a.entity == "member" and a.entity_id == zhang.id)
    assert created.changes["phone"] == [None, "13800138000"]
    assert created.actor == "import roster test"

    assert await run(session, path) == ImportSummary(0, 0, 4, 0)
    assert await count(session, AuditLog) == 9
    assert await count(session, Member) == 4


async def test_xlsx_with_english_headers(session, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["ID", "Name", "Branch", "Domain", "Category", "Role", "Phone", "Joined"])
    joined = date(2001, 7, 1)
    sheet.append([7, "Li Si", VILLAGE, "village", "rural", "secretary", 13800138000, joined])
    path = tmp_path / "r.xlsx"
    book.save(path)
    assert await run(session, path) == ImportSummary(1, 0, 0, 3)
    li = (await members(session))["Li Si"]
    assert (li.roster_no, li.phone, li.joined_on, li.status) == (
        "7",
        "13800138000",
        date(2001, 7, 1),
        "active",
    )


async def test_all_errors_reported_at_once_and_nothing_written(session, tmp_path):
    await run(session, csv_file(tmp_path, ROSTER))
    before = (await count(session, Member), await count(session, Organisation))
    audits = await count(session, AuditLog)
    bad = (
        f"{HEADER}\n"
        f"C001,,{VILLAGE},,农村社区党员,,,,\n"  # 2: no name
        f"C002,钱七,{VILLAGE},,宇航员,,,1380013,\n"  # 3: category, phone
        f"C003,孙八,{VILLAGE},,流动党员,,,13800138000,\n"  # 4: phone of 张三 (A001)
        f"C004,周九,某某市委/新镇党委/新村党支部,,流动党员,,,,\n"  # 5: new branch, no domain
        f"C005,吴十,{VILLAGE}/第一小组,村,流动党员,,,,\n"  # 6: under a branch
        f"C006,郑一,某某市委/某某镇党委,,流动党员,,,,\n"  # 7: a committee
        f"C007,冯二,某某县委/某镇党委/某村党支部,村,流动党员,,,,\n"  # 8: unknown root
        f"A001,张三,{VILLAGE},城市社区,农村社区党员,,,,\n"  # 9: other domain
        f"A002,李四,{VILLAGE},,流动党员,,,13700137000,\n"  # 10: phone of 赵六 (B001)
        f"C009,褚四,{COMMUNITY},,流动党员,支部书记,,,\n"  # 11: fine
    )
    plan = await roster.plan_import(session, roster.read_roster(csv_file(tmp_path, bad)))
    found = [(e.row, e.column, e.code) for e in plan.errors]
    assert found == [
        (2, "姓名", "name_missing"),
        (3, "人员类别", "category_unknown"),
        (3, "手机号码", "phone_malformed"),
        (4, "编号", "roster_no_conflict"),
        (5, "领域", "domain_required"),
        (6, "所在党组织", "branch_under_branch"),
        (7, "所在党组织", "branch_is_committee"),
        (8, "所在党组织", "root_unknown"),
        (9, "领域", "domain_mismatch"),
        (10, "手机号码", "phone_taken"),
    ]
    assert plan.errors[3].detail == "A001" and plan.errors[9].detail == "赵六"
    assert plan.errors[7].detail == "某某市委"
    with pytest.raises(RosterInvalid) as err:
        await run(session, csv_file(tmp_path, bad))
    assert len(err.value.errors) == 10
    await session.rollback()
    assert (await count(session, Member), await count(session, Organisation)) == before
    assert await count(session, AuditLog) == audits


async def test_updates_by_roster_number_and_by_phone(session, tmp_path):
    await run(session, csv_file(tmp_path, ROSTER))
    people = {name: (m.id, m.org_id) for name, m in (await members(session)).items()}
    # Telegram ids come from onboarding: an import must never touch them.
    zhang_id, village_id = people["张三"]
    await session.execute(update(Member).where(Member.id == zhang_id).values(telegram_id=42))
    await session.commit()
    changed = (
        f"{HEADER}\n"
        # By number: new name, new phone, moved to the community branch.
        f"A001,张三丰,{COMMUNITY},,农村社区党员,党员,正常,13800138001,2001-07-01\n"
        # By phone: back from being mobile.
        f",李四,{VILLAGE},,流动党员,党员,正常,13900139000,\n"
        # By name: the only 王五 of the branch, who had neither number nor phone.
        f"W001,王五,{VILLAGE},,农村社区党员,组织委员,,13600136000,\n"
        f"X001,新人,{VILLAGE},,两新组织党员,,,,\n"
        f"B001,赵六,{COMMUNITY},,城市社区党员,书记,请假,+86 13700137000,\n"
    )
    assert await run(session, csv_file(tmp_path, changed)) == ImportSummary(1, 3, 1, 0)
    after = await members(session)
    zhang = after["张三丰"]
    community = await orgs.find_by_path(session, COMMUNITY)
    assert zhang.id == zhang_id and zhang.telegram_id == 42
    assert (zhang.phone, zhang.org_id, zhang.role) == ("13800138001", community.id, "member")
    li = after["李四"]
    assert (li.id, li.roster_no, li.status) == (people["李四"][0], "A002", "active")
    wang = after["王五"]
    assert (wang.id, wang.roster_no, wang.phone) == (people["王五"][0], "W001", "13600136000")
    assert after["新人"].role == "member" and after["新人"].status == "active"
    log = (
        await session.execute(
            select(AuditLog).where(AuditLog.entity_id == zhang.id, AuditLog.action == "update")
        )
    ).scalar_one()
    assert log.changes == {
        "name": ["张三", "张三丰"],
        "role": ["secretary", "member"],
        "phone": ["13800138000", "13800138001"],
        "org_id": [village_id, community.id],
    }


async def test_db_clashes(session, tmp_path):
    await run(session, csv_file(tmp_path, ROSTER))
    clash = (
        f"{HEADER}\n"
        # Phone of 张三 (A001) on a row with a different, new roster number.
        f"Z001,张三,{VILLAGE},,农村社区党员,,,13800138000,\n"
        # Two rows reaching the same member: by number, and by the member's phone.
        f"B001,赵六,{COMMUNITY},,城市社区党员,,,,\n"
        f",赵六,{COMMUNITY},,城市社区党员,,,13700137000,\n"
    )
    plan = await roster.plan_import(session, roster.read_roster(csv_file(tmp_path, clash)))
    assert [(e.row, e.code, e.other_row) for e in plan.errors] == [
        (2, "roster_no_conflict", None),
        (4, "member_twice", 3),
    ]
    assert plan.errors[0].detail == "A001"


async def test_export_import_round_trip(session, tmp_path):
    await run(session, csv_file(tmp_path, ROSTER))
    await session.execute(update(Member).values(locale="en").where(Member.name == "李四"))
    await session.commit()
    for lang in ("zh", "en"):
        out = tmp_path / f"out-{lang}.xlsx"
        records = await roster.export_rows(session)
        assert roster.write_xlsx(records, out, lang=lang) == 4
        sheet = roster.read_roster(out)
        assert set(sheet.columns) == set(roster.FIELDS)
        assert await run(session, out) == ImportSummary(0, 0, 4, 0)
    town = await orgs.find_by_path(session, "某某市委/某某街道党工委")
    subtree = await roster.export_rows(session, town)
    assert [r.name for r in subtree] == ["赵六"] and subtree[0].branch == COMMUNITY
    # Secretaries come first in their branch.
    assert [r.name for r in await roster.export_rows(session)][:3] == ["赵六", "张三", "王五"]


async def test_bare_branch_name_and_keyless_duplicates(session, tmp_path):
    await run(session, csv_file(tmp_path, ROSTER))
    text = (
        f"{HEADER}\n"
        ",周九,某某村党支部,,流动党员,,,,\n"
        ",周九,某某村党支部,,流动党员,,,,\n"
        ",吴十,不存在的支部,,流动党员,,,,\n"
    )
    plan = await roster.plan_import(session, roster.read_roster(csv_file(tmp_path, text)))
    assert [(e.row, e.code) for e in plan.errors] == [
        (3, "person_duplicate"),
        (4, "branch_unknown"),
    ]
    ok = f"{HEADER}\n,周九,某某村党支部,,流动党员,,,,\n"
    assert await run(session, csv_file(tmp_path, ok)) == ImportSummary(1, 0, 0, 0)
    assert await run(session, csv_file(tmp_path, ok)) == ImportSummary(0, 0, 1, 0)


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def cli_db(tmp_path, monkeypatch) -> str:
    from bot.cli.common import err_console
    from bot.db.engine import create_engine
    from bot.db.migrate import upgrade

    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"

    async def migrate() -> None:
        engine = create_engine(url)
        await upgrade(engine)
        await engine.dispose()

    asyncio.run(migrate())
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DEFAULT_LOCALE", "zh_Hans")
    # Wide enough that a problem is never wrapped across table lines.
    monkeypatch.setattr(err_console, "width", 300)
    return url


def invoke(*args: str):
    from bot.cli.main import app

    return CliRunner().invoke(app, list(args))


def test_cli_import_then_reimport_then_export(cli_db, tmp_path):
    path = csv_file(tmp_path, ROSTER, "gbk")
    result = invoke("import", "roster", str(path), "--lang", "en")
    assert result.exit_code == 0, result.output
    assert "created: 4, updated: 0, unchanged: 0; organisations created: 5" in result.output
    result = invoke("import", "roster", str(path), "--lang", "en")
    assert "created: 0, updated: 0, unchanged: 4" in result.output
    out = tmp_path / "out.xlsx"
    result = invoke("export", "roster", "--org", "某某市委/某某镇党委", str(out))
    assert result.exit_code == 0, result.output
    assert "3" in result.output and out.exists()
    result = invoke("import", "roster", str(out), "--dry-run", "--lang", "en")
    assert result.exit_code == 0 and "Dry run" in result.output
    assert "unchanged: 3" in result.output


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", ["the phone number 1380013 is malformed", "rural_community, agency"]),
        ("zh", ["1380013", "农村社区党员、机关企事业单位党员"]),
    ],
)
def test_cli_reports_every_error_and_writes_nothing(cli_db, tmp_path, lang, expected):
    bad = f"{HEADER}\nA1,,{VILLAGE},村,宇航员,,,1380013,\nA2,李四,{VILLAGE},村,流动,,,,\n"
    result = invoke("import", "roster", str(csv_file(tmp_path, bad)), "--lang", lang)
    assert result.exit_code == 1
    for text in ("姓名", "人员类别", "手机号码", *expected):
        assert text in result.output, result.output
    result = invoke("export", "roster", str(tmp_path / "o.xlsx"), "--lang", lang)
    assert result.exit_code == 0
    assert roster.read_roster(tmp_path / "o.xlsx").rows == []


def test_cli_bad_files(cli_db, tmp_path):
    missing = csv_file(tmp_path, "姓名,手机号码\n张三,13800138000\n")
    result = invoke("import", "roster", str(missing), "--lang", "en")
    assert result.exit_code == 1 and "lacks the columns branch, category" in result.output
    result = invoke("import", "roster", str(missing), "--lang", "zh")
    assert result.exit_code == 1 and "所在党组织、人员类别" in result.output
    utf16 = csv_file(tmp_path, ROSTER, "utf-16")
    result = invoke("import", "roster", str(utf16), "--lang", "en")
    assert result.exit_code == 1 and "UTF-8 or GBK" in result.output
    # A file that is not there, or a name that is not .xlsx: the call is wrong (exit 2).
    result = invoke("import", "roster", str(tmp_path / "nope.csv"), "--lang", "en")
    assert result.exit_code == 2 and "File not found" in result.output
    result = invoke("export", "roster", str(tmp_path / "o.txt"), "--lang", "en")
    assert result.exit_code == 2 and ".xlsx or .csv" in result.output


async def test_new_path_used_as_branch_and_committee(session, tmp_path):
    text = f"{HEADER}\n,周九,{VILLAGE},村,流动党员,,,,\n,吴十,{VILLAGE}/第一小组,村,流动党员,,,,\n"
    plan = await roster.plan_import(session, roster.read_roster(csv_file(tmp_path, text)))
    assert [(e.row, e.code, e.other_row) for e in plan.errors] == [
        (2, "branch_used_as_committee", 3)
    ]


async def test_a_phone_of_another_member_is_not_a_rename(session, tmp_path):
    """A row with only a phone to go by and another name: a mistyped phone, not 张三
    renamed to 孙八 and stripped of his secretaryship."""
    await run(session, csv_file(tmp_path, ROSTER))
    typo = f"{HEADER}\n,孙八,{VILLAGE},,农村社区党员,党员,,13800138000,\n"
    plan = await roster.plan_import(session, roster.read_roster(csv_file(tmp_path, typo)))
    assert [(e.row, e.code, e.detail) for e in plan.errors] == [(2, "phone_taken", "张三")]
    zhang = (await members(session))["张三"]
    assert zhang.role == "secretary"
