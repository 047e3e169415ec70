"""Names are names, and spreadsheets carry no formulas (issue 8, items 4 and 11)."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from bot.db.models import AuditLog, Member, Organisation
from bot.services import members, onboarding, orgs, roster, safetext
from bot.services.errors import ServiceError
from bot.services.members import Principal
from bot.services.roster import RosterInvalid
from tests.integration.test_roster import ACTOR, HEADER, NOW, ROSTER, VILLAGE, csv_file, run

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
            orgs.clean_name(raw, person=True)
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
        if code == "name.formula":
            continue  # an organisation may be called so: exports write it inert
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
