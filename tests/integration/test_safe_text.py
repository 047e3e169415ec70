"""Names are names, and spreadsheets carry no formulas (issue 8, items 4 and 11)."""

from __future__ import annotations

import asyncio
import csv
import io
import zipfile

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from bot.db.engine import create_engine
from bot.db.models import AuditLog, Member, Organisation
from bot.services import members, onboarding, org_import, orgs, roster, safetext, tree
from bot.services.errors import ServiceError
from bot.services.members import Principal
from bot.services.roster import RosterInvalid
from tests.integration.test_roster import (
    ACTOR,
    HEADER,
    NOW,
    ROSTER,
    VILLAGE,
    cli_db,
    csv_file,
    invoke,
    run,
)

__all__ = ["cli_db"]  # the fixture, used by name

FORMULAS = ["=1+1", "+SUM(A1)", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1"]


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("张三", None),
        ("张\u200b三", None),
        ("\u200b\u200c\u2060", "invisible"),
        ("\x00\x07", "invisible"),
        ("", "empty"),
        ("   ", "empty"),
        ("\u202e三张", "bidi"),
        ("张\u2066三", "bidi"),
        *((f, "formula") for f in FORMULAS),
        ("\u200b=1+1", "formula"),
        ("Anne-Marie", None),
    ],
)
def test_name_problem(raw, problem):
    assert safetext.name_problem(raw) == problem


def test_clean_name_drops_invisible_characters():
    assert orgs.clean_name("张\u200b三\u00ad ") == "张三"
    for raw, code in [
        ("\u202eabc", "name.bidi"),
        ("\u200b", "name.invisible"),
        ('=HYPERLINK("x")', "name.formula"),
    ]:
        with pytest.raises(ServiceError) as refused:
            orgs.clean_name(raw)
        assert refused.value.code == code


def test_csv_cells_are_inert():
    out = io.StringIO()
    csv.writer(out).writerow([safetext.csv_cell(v) for v in [*FORMULAS, "ok", 5]])
    cells = next(csv.reader(io.StringIO(out.getvalue())))
    assert all(c.startswith("'") for c in cells[: len(FORMULAS)])
    assert cells[-2:] == ["ok", "5"]


async def test_import_refuses_formula_bidi_and_invisible_names_and_numbers(session, tmp_path):
    text = (
        f"{HEADER}\n"
        f"A001,=1+1,{VILLAGE},农村,农村社区党员,,,,\n"
        f"A002,\u202e三张,{VILLAGE},,农村社区党员,,,,\n"
        f"A003,\u200b\u200b,{VILLAGE},,农村社区党员,,,,\n"
        f"@SUM(A1),张三,{VILLAGE},,农村社区党员,,,,\n"
        f"A005,@me,{VILLAGE},,农村社区党员,,,,\n"
        f"A006,-1,{VILLAGE},,农村社区党员,,,,\n"
    )
    with pytest.raises(RosterInvalid) as refused:
        await run(session, csv_file(tmp_path, text))
    assert [(e.row, e.code) for e in refused.value.errors] == [
        (2, "name_formula"),
        (3, "name_bidi"),
        (4, "name_invisible"),
        (5, "roster_no_formula"),
        (6, "name_formula"),
        (7, "name_formula"),
    ]
    assert refused.value.errors[1].value == "<U+202E>三张"
    await session.rollback()
    assert (await session.execute(select(func.count()).select_from(Member))).scalar_one() == 0
    assert (await session.execute(select(func.count()).select_from(AuditLog))).scalar_one() == 0


async def test_import_keeps_a_name_without_its_zero_width_characters(session, tmp_path):
    await run(
        session,
        csv_file(tmp_path, f"{HEADER}\nA001,张\u200c三\u2060,{VILLAGE},农村,农村社区党员,,,,\n"),
    )
    names = (await session.execute(select(Member.name))).scalars().all()
    assert names == ["张三"]


async def test_export_writes_old_formula_like_values_as_text(session, tmp_path):
    """Values stored before the check (or by a path that skipped it) still leave inert."""
    await run(session, csv_file(tmp_path, ROSTER))
    await session.execute(
        update(Member)
        .where(Member.name == "张三")
        .values(name='=HYPERLINK("http://evil","x")', roster_no="+A001")
    )
    await session.execute(
        update(Organisation).where(Organisation.name == "某某村党支部").values(name="@SUM(1)")
    )
    await session.commit()
    out = tmp_path / "out.xlsx"
    assert roster.write_xlsx(await roster.export_rows(session), out) == 4
    xml = zipfile.ZipFile(out).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml  # not one formula in the sheet
    sheet = load_workbook(out).active
    values = {c.value: c for row in sheet.iter_rows() for c in row if isinstance(c.value, str)}
    evil = values['=HYPERLINK("http://evil","x")']
    assert evil.data_type == "s" and evil.quotePrefix
    assert values["+A001"].data_type == "s"
    assert any(v.endswith("/@SUM(1)") for v in values)


async def test_names_typed_in_chat_follow_the_same_rule(session):
    city = await orgs.create_org(session, ACTOR, NOW, name="市委", kind="committee")
    branch = await orgs.create_org(
        session, ACTOR, NOW, name="支部", kind="branch", parent_id=city.id, domain="village"
    )
    invite = await onboarding.create_invite(
        session, Principal(1, is_superuser=True), NOW, branch.id
    )
    for raw, code in [
        ("\u202eabc", "name.bidi"),
        ("\u200b\u200d", "name.invisible"),
        ("=cmd|' /C calc'!A0", "name.formula"),
    ]:
        with pytest.raises(ServiceError) as refused:
            await onboarding.request_as_new(session, NOW, invite.id, 4242, raw)
        assert refused.value.code == code
        with pytest.raises(ServiceError) as refused:
            await orgs.create_org(
                session, ACTOR, NOW, name=raw, kind="committee", parent_id=city.id
            )
        assert refused.value.code == code
    member = await members.add_member(
        session, ACTOR, NOW, org_id=branch.id, name="张三", category="rural_community"
    )
    with pytest.raises(ServiceError) as refused:
        await members.update_member(session, ACTOR, NOW, member, name="+1 (555)")
    assert refused.value.code == "name.formula"
    # Telegram's own display names are never refused, only made safe.
    assert safetext.telegram_name("\u202e=Evil\u200b", "tg:1") == "Evil"
    assert safetext.telegram_name("\u200b", "tg:1") == "tg:1"


@pytest.mark.parametrize("raw", FORMULAS)
async def test_organisation_names_like_formulas_are_refused(session, raw):
    city = await orgs.create_org(session, ACTOR, NOW, name="市委", kind="committee")
    with pytest.raises(ServiceError) as refused:
        await orgs.create_org(session, ACTOR, NOW, name=raw, kind="committee", parent_id=city.id)
    assert refused.value.code == "name.formula"
    town = await orgs.create_org(
        session, ACTOR, NOW, name="镇党委", kind="committee", parent_id=city.id
    )
    with pytest.raises(ServiceError) as refused:
        await tree.rename_org(session, ACTOR, NOW, town, raw)
    assert refused.value.code == "name.formula"
    assert (await session.get(Organisation, town.id)).name == "镇党委"


async def test_imports_refuse_an_organisation_path_with_a_formula_name(session, tmp_path):
    text = f"{HEADER}\nA001,张三,某某市委/=HYPERLINK(1)/某某村党支部,农村,农村社区党员,,,,\n"
    with pytest.raises(RosterInvalid) as refused:
        await run(session, csv_file(tmp_path, text))
    assert [(e.row, e.code) for e in refused.value.errors] == [(2, "path_formula")]
    await session.rollback()
    orgs_csv = csv_file(tmp_path, "路径,类型\n某某市委,党委\n某某市委/@SUM(1),党委\n", name="o.csv")
    plan = await org_import.plan_org_import(session, org_import.read_org_file(orgs_csv))
    assert [(e.row, e.code) for e in plan.errors] == [(3, "path_formula")]
    assert await session.scalar(select(func.count()).select_from(Organisation)) == 0


@pytest.mark.parametrize(("lang", "words"), [("en", "cannot start with ="), ("zh", "不能以")])
def test_cli_org_add_and_rename_refuse_formula_names(cli_db, lang, words, monkeypatch):
    monkeypatch.setenv("DEFAULT_LOCALE", "en" if lang == "en" else "zh_Hans")
    assert invoke("org", "add", "市委").exit_code == 0
    for args in (
        ("org", "add", "=cmd|' /C calc'!A0", "--parent", "市委"),
        ("org", "rename", "市委", "+1"),
    ):
        done = invoke(*args)
        assert done.exit_code == 1, done.output
        assert words in done.output and "name.formula" not in done.output
    done = invoke("org", "add", "镇党委", "--parent", "市委")
    assert done.exit_code == 0, done.output


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_roster_csv_export_writes_formula_names_inert(cli_db, tmp_path, lang):
    assert invoke("import", "roster", str(csv_file(tmp_path, ROSTER))).exit_code == 0

    async def poison() -> None:  # stored before the rule, or by a path that skipped it
        engine = create_engine(cli_db)
        async with engine.begin() as conn:
            await conn.execute(
                update(Member).where(Member.name == "张三").values(name="=cmd|' /C calc'!A0")
            )
            await conn.execute(
                update(Member).where(Member.name == "李四").values(roster_no="@SUM(A1)")
            )
        await engine.dispose()

    asyncio.run(poison())
    out = tmp_path / "roster.csv"
    done = invoke("export", "roster", str(out), "--lang", lang)
    assert done.exit_code == 0, done.output
    assert "4" in done.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel then reads the Chinese as UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:2] == (["编号", "姓名"] if lang == "zh" else ["id", "name"])
    cells = [c for row in rows[1:] for c in row]
    assert "'=cmd|' /C calc'!A0" in cells and "'@SUM(A1)" in cells
    assert not [c for c in cells if safetext.formula_like(c)]  # nothing a sheet evaluates
    assert any("农村社区党员" in c or "rural_community" in c for c in cells)
