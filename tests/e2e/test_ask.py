"""Questions in free text and /rating, /tasks, /mygrade, by a member, a secretary and staff."""

from __future__ import annotations

from datetime import date

import pytest

from bot.db.models import Meeting
from bot.services import members, periods
from scoring import load_fortress_rubric
from tests.e2e import seeds
from tests.e2e.test_month import PNG

SECRETARY, MEMBER, STAFF, STRANGER = 500, 501, 800, 777

T = {
    "zh": {
        "lang": "zh-hans",
        "ask": "请问一下我们支部这个月几星了呀",
        "provisional": "暂定",
        "six": "六个基本",
        "basic": "基本组织生活",
        "last": "上月（2026-10）",
        "confirmed": "已确认",
        "since": "较上月",
        "outstanding": "未完成",
        "tasks_q": "还有什么任务没做？",
        "next_q": "怎样才能升星",
        "to_reach": "目前",
        "grade_q": "我的等次是什么",
        "not_yet": "本年度尚未评定",
        "meeting_q": "下次开会是什么时候",
        "no_meeting": "尚未发布会议通知",
        "unknown": "今天天气怎么样",
        "cant": "没听懂",
        "btn_rating": "⭐ 星级",
        "help": "我可以为你做这些",
        "join": "邀请链接",
    },
    "en": {
        "lang": "en",
        "ask": "whats our star raiting??",
        "provisional": "provisional",
        "six": "six basics",
        "basic": "Basic organisational life",
        "last": "Last month (2026-10)",
        "confirmed": "confirmed",
        "since": "Since last month",
        "outstanding": "Outstanding",
        "tasks_q": "what tasks are left",
        "next_q": "how do we get the next star",
        "to_reach": "now (provisional)",
        "grade_q": "my grade?",
        "not_yet": "not yet evaluated this year",
        "meeting_q": "when is the next meeting",
        "no_meeting": "No meeting has been announced yet",
        "unknown": "the weather is nice",
        "cant": "did not catch that",
        "btn_rating": "⭐ Star rating",
        "help": "What I can do for you",
        "join": "invite link",
    },
}


async def _branch(session, now):
    city = await seeds.city(session, now, staff=(STAFF, "组织部"))
    branch = await seeds.village_branch(session, now, city, SECRETARY)
    member = await members.add_member(
        session, seeds.ROOT.actor, now, org_id=branch.id, name="张伟", category="rural_community"
    )
    await members.link_telegram(session, seeds.ROOT.actor, now, member, MEMBER)
    for month in range(1, 11):
        for kind in ("theme_day", "committee"):
            session.add(
                Meeting(
                    org_id=branch.id,
                    kind=kind,
                    held_on=date(2026, month, 10),
                    topic=f"{kind} {month}",
                    topic_key=f"{kind} {month}",
                    attended=2,
                    expected=2,
                    counts=True,
                    created_at=now,
                    updated_at=now,
                )
            )
    await session.flush()
    await periods.close_period(session, load_fortress_rubric(), now, "2026-10")
    await periods.confirm_all(session, seeds.ROOT, now, "2026-10")
    return branch.id


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_member_asks_in_free_text(world, lang):
    t = T[lang]
    await world.seed(_branch)
    me = await world.emu.create_user("张伟", user_id=MEMBER, language_code=t["lang"])
    await me.send(t["ask"])
    got = await me.expect(t["provisional"])
    assert "★" in got.text and t["six"] in got.text and t["basic"] in got.text
    assert t["last"] in got.text and t["confirmed"] in got.text and t["since"] in got.text
    assert t["outstanding"] in got.text
    await me.send(t["tasks_q"])
    await me.expect(t["outstanding"])
    await me.send(t["next_q"])
    await me.expect(t["to_reach"])
    await me.send(t["grade_q"])
    await me.expect(t["not_yet"])
    await me.send(t["meeting_q"])
    await me.expect(t["no_meeting"])
    await me.send(t["unknown"])
    unknown = await me.expect(t["cant"])
    await me.press(t["btn_rating"])
    await me.expect(t["provisional"])
    assert unknown.has_button(t["btn_rating"])


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_secretary_uses_the_commands(world, lang):
    t = T[lang]
    await world.seed(_branch)
    sec = await world.emu.create_user("李书记", user_id=SECRETARY, language_code=t["lang"])
    await sec.send("/rating")
    await sec.expect(t["provisional"])
    await sec.send("/tasks")
    await sec.expect(t["outstanding"])
    await sec.send("/mygrade")
    await sec.expect(t["not_yet"])
    await sec.send_photo(PNG)
    await sec.expect(t["cant"])


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_stranger_is_told_how_to_join(world, lang):
    t = T[lang]
    await world.seed(_branch)
    who = await world.emu.create_user("路人", user_id=STRANGER, language_code=t["lang"])
    await who.send(t["ask"])
    await who.expect(t["join"])


async def test_text_inside_a_conversation_step_is_left_to_the_step(world):
    await world.seed(_branch)
    sec = await world.emu.create_user("李书记", user_id=SECRETARY, language_code="en")
    await sec.send("/month")
    await sec.expect("Done ")
    await sec.press("📝 Log a meeting")
    await sec.expect()
    await sec.send("what's my star rating")
    hint = await sec.expect()
    assert "provisional" not in hint.text
