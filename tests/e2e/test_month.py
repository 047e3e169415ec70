"""The secretary's month, as users in the emulator, in Chinese and English."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from bot.db.engine import create_engine, session_factory
from bot.db.models import AuditLog, Meeting, MemberStatus, PeriodSnapshot
from bot.services import members
from bot.services.members import Principal
from tests.e2e import seeds
from tests.e2e.conftest import SUPERUSER

ROOT = Principal(telegram_id=SUPERUSER, is_superuser=True)
SECRETARY = 500
STAFF = 800
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)

T = {
    "zh": {
        "lang": "zh-hans",
        "log": "记录会议",
        "general": "支部党员大会",
        "today": "今天",
        "skip": "跳过",
        "all": "全部到会",
        "done": "完成",
        "save": "保存",
        "met": "达到法定人数",
        "not_met": "未达到法定人数",
        "tick": "按季度召开支部党员大会",
        "score": "得分",
        "cancel": "取消",
        "cancelled": "已取消会议记录",
        "progress": "已完成",
        "meetings": "会议记录",
        "edit": "编辑",
        "topic_btn": "主题",
        "saved": "会议已保存",
        "topic": "学习贯彻党的二十届四中全会精神",
        "new_topic": "专题学习",
        "who": "哪些人参会",
        "closed": "本月已关账",
    },
    "en": {
        "lang": "en",
        "log": "Log a meeting",
        "general": "general member meeting",
        "today": "Today",
        "skip": "Skip",
        "all": "Everyone present",
        "done": "Done",
        "save": "Save",
        "met": "Quorum met",
        "not_met": "Quorum not met",
        "tick": "Quarterly general member meeting",
        "score": "Score",
        "cancel": "Cancel",
        "cancelled": "Meeting log cancelled",
        "progress": "Done ",
        "meetings": "Meetings",
        "edit": "Edit",
        "topic_btn": "Topic",
        "saved": "Meeting saved",
        "topic": "Studying the plenary session",
        "new_topic": "Special study",
        "who": "Who attended",
        "closed": "This month is closed",
    },
}


async def _branch(session, now):
    parent = await seeds.city(session, now, staff=(STAFF, "组织部"))
    branch = await seeds.village_branch(session, now, parent, SECRETARY)
    for i in range(9):
        m = await members.add_member(
            session,
            ROOT.actor,
            now,
            org_id=branch.id,
            name=f"刘{i:02d}",
            category="rural_community",
        )
        if i == 7:
            m.status = MemberStatus.on_leave.value
        if i == 8:
            m.status = MemberStatus.mobile.value
    # The year so far: a theme party day and a committee meeting every month, so the
    # branch is not losing points to the deduction sheet.
    await seeds.year_of_meetings(session, now, branch.id, 8)
    return branch.id


async def _meetings(session, now):
    rows = await session.execute(
        select(Meeting.kind, Meeting.counts, Meeting.topic).where(
            Meeting.held_on >= date(2026, 11, 1)
        )
    )
    return [tuple(r) for r in rows.all()]


async def _start_log(sec, t):
    await sec.send("/month")
    first = await sec.expect(t["progress"])
    await sec.press("📝 " + t["log"])
    await sec.expect()
    await sec.press(t["general"])
    await sec.expect(edited=True)
    await sec.press(t["today"])
    await sec.expect(edited=True)
    await sec.press(t["skip"])
    await sec.expect(t["who"], edited=True)
    return first


async def secretary_logging_all(world, t):
    """The secretary of a seeded branch, logging today's general meeting: all present."""
    await world.seed(_branch)
    sec = await world.emu.create_user("李书记", user_id=SECRETARY, language_code=t["lang"])
    await _start_log(sec, t)
    await sec.press(t["all"])
    await sec.expect(edited=True)
    return sec


async def _finish_log(sec, t, topic):
    await sec.press(t["done"])
    await sec.expect(edited=True)
    await sec.send(topic)
    await sec.expect()
    await sec.press(t["skip"])  # notes
    await sec.expect()
    await sec.send_photo(PNG)
    await sec.expect()
    await sec.press(t["done"])  # photos
    summary = await sec.expect()
    await sec.press("💾 " + t["save"])
    return summary


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_general_meeting_with_quorum_ticks_checklist(world, lang):
    t = T[lang]
    await world.seed(_branch)
    sec = await world.emu.create_user("李书记", user_id=SECRETARY, language_code=t["lang"])
    before = await _start_log(sec, t)
    await sec.press(t["all"])
    picked = await sec.expect(edited=True)
    assert any("(8/8)" in b or "（8/8）" in b for row in picked.buttons for b in row)
    summary = await _finish_log(sec, t, t["topic"])
    assert t["topic"] in summary.text
    report = await sec.expect(t["met"])
    assert t["tick"] in report.text and t["score"] in report.text
    await sec.send("/month")
    after = await sec.expect(t["progress"])
    done = [int(re.search(r"(\d+)/\d+", m.text).group(1)) for m in (before, after)]
    assert done[1] == done[0] + 1 and after.text != before.text
    assert await world.seed(_meetings) == [("general", True, t["topic"])]


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_quorum_not_met_is_recorded_as_not_counting(world, lang):
    t = T[lang]
    await world.seed(_branch)
    sec = await world.emu.create_user("李书记", user_id=SECRETARY, language_code=t["lang"])
    await _start_log(sec, t)
    for name in ("刘00", "刘01", "刘07", "▶", "刘08"):  # 2 counted, on leave, (page 2) mobile
        await sec.press(name)
        await sec.expect(edited=True)
    await _finish_log(sec, t, t["topic"])
    report = await sec.expect(t["not_met"])
    assert "2" in report.text and "8" in report.text and "5" in report.text
    assert await world.seed(_meetings) == [("general", False, t["topic"])]


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_cancel_mid_way_saves_nothing(world, lang):
    t = T[lang]
    await world.seed(_branch)
    sec = await world.emu.create_user("李书记", user_id=SECRETARY, language_code=t["lang"])
    await _start_log(sec, t)
    await sec.press("✖ " + t["cancel"])
    await sec.expect(t["cancelled"], edited=True)
    assert await world.seed(_meetings) == []


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_edit_after_logging_keeps_old_values_in_audit(world, lang):
    t = T[lang]
    sec = await secretary_logging_all(world, t)
    await _finish_log(sec, t, t["topic"])
    await sec.expect(t["saved"])
    await sec.send("/month")
    await sec.expect(t["progress"])
    await sec.press("🗂 " + t["meetings"])
    await sec.expect(edited=True)
    await sec.press(t["topic"][:10])
    await sec.expect(edited=True)
    await sec.press("✏️ " + t["edit"])
    await sec.expect()
    await sec.press(t["topic_btn"])
    await sec.expect(edited=True)
    await sec.send(t["new_topic"])
    await sec.expect(t["new_topic"])
    await sec.press("💾 " + t["save"])
    await sec.expect(t["saved"])
    assert await world.seed(_meetings) == [("general", True, t["new_topic"])]

    async def audit(session, now):
        rows = await session.execute(
            select(AuditLog.changes).where(
                AuditLog.entity == "meeting", AuditLog.action == "update"
            )
        )
        return rows.scalars().all()

    changes = await world.seed(audit)
    assert changes and changes[0]["topic"] == [t["topic"], t["new_topic"]]


async def test_second_tap_on_save_makes_no_duplicate(world):
    t = T["zh"]
    sec = await secretary_logging_all(world, t)
    summary = await _finish_log(sec, t, t["topic"])
    await sec.expect(t["saved"])
    answer = await sec.press_data(
        summary.button("💾 " + t["save"])["callback_data"], summary.message_id, force=True
    )
    assert answer.show_alert

    async def count(session, now):
        stmt = select(func.count(Meeting.id)).where(Meeting.held_on >= date(2026, 11, 1))
        return (await session.execute(stmt)).scalar_one()

    assert await world.seed(count) == 1


async def _places_and_notes(session, now):
    rows = await session.execute(
        select(Meeting.place, Meeting.notes).where(Meeting.held_on >= date(2026, 11, 1))
    )
    return [tuple(r) for r in rows.all()]


@pytest.mark.parametrize(("lang", "word"), [("zh", "跳过"), ("en", "skip"), ("zh", "无")])
async def test_typing_skip_at_an_optional_step_skips_it(world, lang, word):
    """A secretary who types the word for "skip" at the place and notes steps, instead
    of pressing the button, gets the step skipped — not a meeting held at "跳过"."""
    t = T[lang]
    await world.seed(_branch)
    sec = await world.emu.create_user("李书记", user_id=SECRETARY, language_code=t["lang"])
    await sec.send("/month")
    await sec.expect(t["progress"])
    await sec.press("📝 " + t["log"])
    await sec.expect()
    await sec.press(t["general"])
    await sec.expect(edited=True)
    await sec.press(t["today"])
    await sec.expect(edited=True)
    await sec.send(word)  # the place
    await sec.expect(t["who"])
    await sec.press(t["all"])
    await sec.expect(edited=True)
    await sec.press(t["done"])
    await sec.expect(edited=True)
    await sec.send(t["topic"])
    await sec.expect()
    await sec.send(word)  # the notes
    await sec.expect()
    await sec.send_photo(PNG)
    await sec.expect()
    await sec.press(t["done"])
    summary = await sec.expect()
    assert word not in summary.text, summary.text
    await sec.press("💾 " + t["save"])
    await sec.expect(t["saved"])
    assert await world.seed(_places_and_notes) == [(None, None)]


@pytest.mark.parametrize(("lang", "sep", "other"), [("zh", "、", ", "), ("en", ", ", "、")])
async def test_attendees_listed_in_the_replys_language(world, lang, sep, other):
    """The attendees of the record under review are a list in the reply's language:
    刘00、刘01 in Chinese, 刘00, 刘01 in English (no Chinese punctuation in English)."""
    t = T[lang]
    sec = await secretary_logging_all(world, t)
    summary = await _finish_log(sec, t, t["topic"])
    assert f"刘00{sep}刘01" in summary.text and other not in summary.text, summary.text


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_month_shows_another_workers_write_at_once(world, engine, lang):
    """/month is remembered per branch and month; a meeting written through another
    engine (as by a second worker process) and a month closed there show on the next
    /month, while asking again with nothing new gives the same answer."""
    t = T[lang]
    branch_id = await world.seed(_branch)
    sec = await world.emu.create_user("李书记", user_id=SECRETARY, language_code=t["lang"])
    await sec.send("/month")
    first = await sec.expect(t["progress"])
    await sec.send("/month")
    assert (await sec.expect(t["progress"])).text == first.text
    other = create_engine(engine.url.render_as_string(hide_password=False))
    try:
        async with session_factory(other)() as session:
            session.add(
                Meeting(
                    org_id=branch_id,
                    kind="general",
                    held_on=date(2026, 11, 10),
                    topic="支部党员大会",
                    topic_key="支部党员大会",
                    attended=7,
                    expected=7,
                    counts=True,
                    created_at=world.app.clock.now(),
                    updated_at=world.app.clock.now(),
                )
            )
            await session.commit()
        await sec.send("/month")
        after = await sec.expect(t["progress"])
        done = [int(re.search(r"(\d+)/\d+", m.text).group(1)) for m in (first, after)]
        assert done[1] == done[0] + 1, (first.text, after.text)
        async with session_factory(other)() as session:
            session.add(
                PeriodSnapshot(
                    org_id=branch_id,
                    period="2026-11",
                    score=Decimal(0),
                    max_score=Decimal(100),
                    proposed_star=1,
                    meets_standard=False,
                    rubric_version="test",
                    breakdown={},
                    created_at=world.app.clock.now(),
                )
            )
            await session.commit()
    finally:
        await other.dispose()
    await sec.send("/month")
    closed = await sec.expect(t["progress"])
    assert t["closed"] in closed.text and t["closed"] not in after.text
