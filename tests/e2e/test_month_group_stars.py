"""RSVPs in the branch group, other evidence, and month close with star confirmation,
as users in the emulator, in Chinese and English."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from bot.db.models import AuditLog, Evidence, Organisation, PeriodSnapshot
from bot.services import members
from handlers.callbacks import StarAct
from tests.e2e.conftest import SUPERUSER
from tests.e2e.test_month import ROOT, SECRETARY, STAFF, _branch

M1, M2 = 601, 602

T = {
    "zh": {
        "lang": "zh-hans",
        "linked": "已绑定",
        "general": "支部党员大会",
        "posted": "通知正在发往支部群",
        "topic_q": "请输入会议主题",
        "come": "🙋 参加",
        "cant": "🙅 不能参加",
        "why": "原因",
        "thanks": "谢谢",
        "log": "📝 记录会议",
        "today": "今天",
        "skip": "跳过",
        "rsvp": "按报名情况",
        "progress": "已完成",
        "not_closed": "尚未关账",
        "close": "立即关账",
        "reason_q": "理由",
        "adjusted": "已调整并确认",
        "needs_reason": "须填写理由",
        "confirmed_msg": "星级已确认",
        "all": "全部按拟评星级确认",
        "record": "📎 登记",
        "note_q": "简要说明",
        "recorded": "已登记",
        "item": "组织信息及时更新",
    },
    "en": {
        "lang": "en",
        "linked": "now linked",
        "general": "general member meeting",
        "posted": "The notice is on its way to the branch group",
        "topic_q": "topic of the meeting",
        "come": "🙋 I'll come",
        "cant": "🙅 I can't come",
        "why": "reason",
        "thanks": "Thank you",
        "log": "📝 Log a meeting",
        "today": "Today",
        "skip": "Skip",
        "rsvp": "From RSVPs",
        "progress": "Done ",
        "not_closed": "has not been closed",
        "close": "Close ",
        "reason_q": "reason",
        "adjusted": "Adjusted and confirmed",
        "needs_reason": "needs a reason",
        "confirmed_msg": "is confirmed",
        "all": "Confirm all proposed",
        "record": "📎 Record it",
        "note_q": "short note",
        "recorded": "Recorded",
        "item": "Organisation records kept",
    },
}


async def _with_members(session, now, locale: str | None = None):
    branch_id = await _branch(session, now)
    roster = await members.roster_page(session, branch_id, "刘0", 0, size=2)
    for member, tg in zip(roster.items, (M1, M2), strict=True):
        await members.link_telegram(session, ROOT.actor, now, member, tg)
    # The branch's own language, which its group's notices are written in.
    (await session.get(Organisation, branch_id)).locale = locale
    return branch_id


async def _announce(sec, group, t):
    await sec.send_in(group, "/linkgroup")
    await group.expect(t["linked"])
    await sec.send("/announce")
    await sec.expect()
    await sec.press(t["general"])
    await sec.expect(edited=True)
    await sec.press("[20]")  # today, 20 November in the fixed clock
    await sec.expect(edited=True)
    await sec.send("19:30 村部会议室")
    await sec.expect(t["topic_q"])
    await sec.send("学习党章")
    await sec.expect(t["posted"])
    return await group.expect("学习党章")


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_rsvp_in_group_prefills_attendees(world, lang):
    t = T[lang]
    await world.seed(_with_members, "en" if lang == "en" else None)
    emu = world.emu
    sec = await emu.create_user("李书记", user_id=SECRETARY, language_code=t["lang"])
    m1 = await emu.create_user("刘00", user_id=M1, language_code=t["lang"])
    m2 = await emu.create_user("刘01", user_id=M2, language_code=t["lang"])
    group = await emu.create_group("红旗村党支部群", members=[m1, m2], admins=[sec])
    notice = await _announce(sec, group, t)
    assert notice.buttons == [[t["come"], t["cant"]]]

    await m1.press(t["come"], chat=group)
    await m2.press(t["cant"], chat=group)
    await m2.expect(t["why"])
    await m2.send("外出务工")
    await m2.expect(t["thanks"])

    await sec.send("/month")
    await sec.expect(t["progress"])
    await sec.press(t["log"])
    await sec.expect()
    await sec.press(t["general"])
    await sec.expect(edited=True)
    await sec.press(t["today"])
    await sec.expect(edited=True)
    await sec.press(t["skip"])
    await sec.expect(edited=True)
    await sec.press(t["rsvp"])
    picked = await sec.expect(edited=True)
    flat = [b for row in picked.buttons for b in row]
    assert "✅ 刘00" in flat and "⬜ 刘01" in flat


@pytest.mark.parametrize(("group", "person"), [("zh", "en"), ("en", "zh")])
async def test_group_notice_keeps_the_groups_language(world, group, person):
    """The meeting notice in the branch group is in the branch's language, whoever posts
    it and whoever answers it: an English RSVP does not turn a Chinese notice English."""
    g, p = T[group], T[person]
    await world.seed(_with_members, "en" if group == "en" else "zh_Hans")
    emu = world.emu
    sec = await emu.create_user("李书记", user_id=SECRETARY, language_code=p["lang"])
    m1 = await emu.create_user("刘00", user_id=M1, language_code=p["lang"])
    chat = await emu.create_group("红旗村党支部群", members=[m1], admins=[sec])
    notice = await _announce(sec, chat, p)
    assert notice.buttons == [[g["come"], g["cant"]]], notice.buttons
    answer = await m1.press(g["come"], chat=chat)
    assert p["thanks"] in answer.text  # the toast is the presser's own
    edited = await chat.expect("学习党章", edited=True)
    assert edited.buttons == [[g["come"], g["cant"]]], edited.buttons
    assert ("参加" in edited.text) == (group == "zh"), edited.text


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_record_other_evidence(world, lang):
    t = T[lang]
    await world.seed(_branch)
    sec = await world.emu.create_user("李书记", user_id=SECRETARY, language_code=t["lang"])
    await sec.send("/month")
    await sec.expect(t["progress"])
    await sec.press(t["item"])
    await sec.expect(edited=True)
    pressed = await sec.press(t["record"])
    assert not pressed.show_alert, pressed.text
    await sec.expect(t["note_q"])
    await sec.send("更新了党组织信息系统")
    await sec.expect()
    await sec.send_document(b"%PDF-1.4 test", "records.pdf")
    done = await sec.expect(t["recorded"])
    assert "✅" in done.text

    async def rows(session, now):
        found = await session.execute(select(Evidence.key, Evidence.note, Evidence.file_kind))
        return [tuple(r) for r in found.all()]

    assert await world.seed(rows) == [("org_records_updated", "更新了党组织信息系统", "document")]


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_month_close_and_confirmation_with_adjustment(world, lang):
    t = T[lang]
    await world.seed(_branch)
    staff = await world.emu.create_user("组织部", user_id=STAFF, language_code=t["lang"])
    sec = await world.emu.create_user("李书记", user_id=SECRETARY, language_code=t["lang"])
    await sec.send("/help")  # the bot learns the secretary's language
    await sec.expect()
    await staff.send("/stars 2026-10")
    await staff.expect(t["not_closed"])
    await staff.press(t["close"])
    listing = await staff.expect(edited=True)
    assert "⏳ 红旗村党支部" in listing.buttons[0][0]
    await staff.press("红旗村党支部")
    detail = await staff.expect(edited=True)
    proposed = detail.text.count("★")
    target = 5 if proposed < 5 else 4
    await staff.press("★" * target)
    await staff.expect(t["reason_q"])
    await staff.send("带动集体经济发展成效突出")
    await staff.expect(t["adjusted"])
    told = await sec.expect(t["confirmed_msg"])
    assert "带动集体经济发展成效突出" in told.text

    async def snapshot(session, now):
        snap = (await session.execute(select(PeriodSnapshot))).scalar_one()
        return snap.period, snap.confirmed_star, snap.adjust_reason, snap.confirmed_by

    assert await world.seed(snapshot) == ("2026-10", target, "带动集体经济发展成效突出", STAFF)


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_confirmed_adjustment_is_changed_only_with_a_reason(world, lang):
    """Once a reasoned level is confirmed, the proposed level is no one-tap revert: going
    back to it goes through the adjust flow with a reason, and old buttons are refused."""
    t = T[lang]
    await world.seed(_branch)
    staff = await world.emu.create_user("组织部", user_id=STAFF, language_code=t["lang"])
    await staff.send("/stars 2026-10")
    await staff.expect(t["not_closed"])
    await staff.press(t["close"])
    await staff.expect(edited=True)
    await staff.press("红旗村党支部")
    detail = await staff.expect(edited=True)
    proposed = detail.text.count("★")
    [ok] = [b for row in detail.buttons for b in row if b.startswith("✓")]
    old_ok = detail.button(ok)["callback_data"]
    target = 5 if proposed < 5 else 4
    await staff.press("★" * target)
    await staff.expect(t["reason_q"])
    await staff.send("带动集体经济发展成效突出")
    adjusted = await staff.expect(t["adjusted"])
    labels = [b for row in adjusted.buttons for b in row]
    assert not any(b.startswith("✓") for b in labels), labels  # no revert in one tap
    assert "★" * proposed in labels and "★" * target not in labels

    async def level(session, now):
        snap = (await session.execute(select(PeriodSnapshot))).scalar_one()
        return snap.confirmed_star, snap.adjust_reason, snap.version

    _star, _reason, version = await world.seed(level)
    # The confirm button of the screen shown before the adjustment: stale, refused.
    answer = await staff.press_data(old_ok, detail.message_id)
    assert answer.show_alert
    # A forged confirm of the proposed level at the current version: a reason is required.
    forged = StarAct.unpack(old_ok).model_copy(update={"v": version}).pack()
    answer = await staff.press_data(forged, adjusted.message_id, force=True)
    assert answer.show_alert and t["needs_reason"] in answer.text
    assert await world.seed(level) == (target, "带动集体经济发展成效突出", version)

    # Back to the proposed level: through the adjust flow, with its own reason.
    await staff.press("★" * proposed, message=adjusted)
    await staff.expect(t["reason_q"])
    await staff.send("经复核按原拟评星级确认")
    await staff.expect(t["adjusted"])
    star, reason, _version = await world.seed(level)
    assert (star, reason) == (proposed, "经复核按原拟评星级确认")


async def test_member_cannot_close_or_confirm(world):
    await world.seed(_with_members)
    m1 = await world.emu.create_user("刘00", user_id=M1, language_code="en")
    await m1.send("/stars 2026-10")
    await m1.expect("not allowed")
    for forged in (
        "sx:2026-10:close:0:0",
        "sx:2026-10:close_sure:1:0",
        "sx:2026-10:confirm:0:0",
        "sx:2026-10:confirm_sure:1:1",
        "sl:2026-10:0",
    ):
        answer = await m1.press_data(forged, 1, force=True)
        assert answer.show_alert and answer.text == "You are not allowed to do that.", forged

    async def written(session, now):
        snapshots = await session.execute(select(func.count()).select_from(PeriodSnapshot))
        audits = await session.execute(
            select(func.count()).select_from(AuditLog).where(AuditLog.actor_id == M1)
        )
        return snapshots.scalar_one(), audits.scalar_one()

    assert await world.seed(written) == (0, 0)  # no month closed, nothing confirmed


async def test_superuser_confirms_all(world):
    await world.seed(_branch)
    boss = await world.emu.create_user("Boss", user_id=SUPERUSER, language_code="en")
    await boss.send("/stars 2026-10")
    await boss.expect("has not been closed")
    await boss.press("Close ")
    await boss.expect(edited=True)
    await boss.press("Confirm all proposed")
    await boss.expect("Branches: 1.", edited=True)
    await boss.press("✓ Confirm 1")
    listing = await boss.expect(edited=True)
    assert listing.buttons[0][0].startswith("✓ ")
    assert re.search(r"compliance rate: \d+(\.\d)?%", listing.text)


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_staff_add_material_and_the_branch_sees_it(world, lang):
    words = {
        "zh": ("党员教育片", "链接须以", "适用于哪些领域", "农村", "已添加", "本月学习资料"),
        "en": (
            "member education video",
            "must start with",
            "Which domains",
            "village",
            "Added for",
            "This month's material",
        ),
    }[lang]
    kind, bad_link, domains, village, added, listed = words
    await world.seed(_branch)
    code = T[lang]["lang"]
    staff = await world.emu.create_user("组织部", user_id=STAFF, language_code=code)
    await staff.send("/content")
    await staff.expect()
    await staff.press(kind)
    await staff.expect(edited=True)
    await staff.send("《村支书的一天》")
    await staff.expect()
    await staff.send("ftp://example.org/film")
    await staff.expect(bad_link)  # refused at this step; the draft is kept
    await staff.send("https://example.org/film")
    await staff.expect(domains)
    await staff.press(village)
    await staff.expect(edited=True)
    await staff.press("💾")
    await staff.expect(added, edited=True)
    sec = await world.emu.create_user("李书记", user_id=SECRETARY, language_code=code)
    await sec.send("/month")
    checklist = await sec.expect(listed)
    assert "《村支书的一天》" in checklist.text
