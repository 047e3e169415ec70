"""`/announce` and the "why can't you come" question reach people through the outbox and
the sender (issue 11, item 3): the notice is a sent outbox row, quiet hours hold the group
notice (not the question the presser waits for), and a group that removed the bot makes
its leaders hear that the notice was not posted."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from sqlalchemy import select, update

from bot.db.models import Organisation, Outbox, OutboxStatus
from tests.e2e.test_month import SECRETARY
from tests.e2e.test_month_group_stars import M1, M2, T, _with_members
from tests.e2e.test_outbox_delivery import wait_for

# The group's language is the branch's: English in the "en" runs (see _people).
WHEN = {"zh": r"时间：2026年\d{1,2}月20日 19:30", "en": r"Time: 20 [A-Z][a-z]+ 2026, 19:30"}
TEXT = {
    "zh": {"quiet": "现在是免打扰时段", "at": "11:00", "lost": "无法在"},
    "en": {"quiet": "It is quiet hours", "at": "11:00", "lost": "could not post in the group"},
}


async def _people(world, lang: str):
    t = T[lang]
    await world.seed(_with_members, "en" if lang == "en" else None)  # the group's language
    emu = world.emu
    sec = await emu.create_user("李书记", user_id=SECRETARY, language_code=t["lang"])
    m1 = await emu.create_user("刘00", user_id=M1, language_code=t["lang"])
    m2 = await emu.create_user("刘01", user_id=M2, language_code=t["lang"])
    group = await emu.create_group("红旗村党支部群", members=[m1, m2], admins=[sec])
    await sec.send_in(group, "/linkgroup")
    await group.expect(t["linked"])
    return sec, m1, m2, group


async def _announce(sec, t, expect: str):
    await sec.send("/announce")
    await sec.expect()
    await sec.press(t["general"])
    await sec.expect(edited=True)
    await sec.press("[20]")
    await sec.expect(edited=True)
    await sec.send("19:30 村部会议室")
    await sec.expect(t["topic_q"])
    await sec.send("学习党章")
    return await sec.expect(expect)


async def _rows(world, kind: str) -> list[Outbox]:
    async with world.app.sessions() as session:
        found = await session.execute(select(Outbox).where(Outbox.kind == kind))
        return list(found.scalars())


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_notice_and_the_question_arrive_through_the_sender(world, lang):
    t = T[lang]
    sec, _m1, m2, group = await _people(world, lang)
    await _announce(sec, t, t["posted"])
    notice = await group.expect("学习党章")
    assert notice.buttons == [[t["come"], t["cant"]]]
    # The time as the group's language writes it: English day first, the month in words.
    when = WHEN[lang]
    assert re.search(when, notice.text), notice.text
    [row] = await _rows(world, "meeting_notice")
    assert row.chat_id == group.id
    assert row.dedupe_key.startswith("meeting-notice:")

    await m2.press(t["cant"], chat=group)
    await m2.expect(t["why"])
    await group.expect(edited=True)  # the counts on the notice
    [asked] = await _rows(world, "rsvp_reason")
    assert asked.chat_id == M2

    async def both_sent():
        rows = await _rows(world, "meeting_notice") + await _rows(world, "rsvp_reason")
        return all(r.status == OutboxStatus.sent for r in rows)

    assert await wait_for(both_sent)
    await group.expect_silence()  # one notice, never a second copy


@pytest.fixture
def world_settings(request) -> dict:
    return getattr(request, "param", {})


# The fixed clock says 10:00 in Shanghai: inside these quiet hours.
@pytest.mark.parametrize("world_settings", [{"quiet_hours": "09:00-11:00"}], indirect=True)
@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_quiet_hours_hold_the_group_notice_not_the_question(world, lang):
    t, x = T[lang], TEXT[lang]
    sec, _m1, m2, group = await _people(world, lang)
    told = await _announce(sec, t, x["quiet"])
    assert x["at"] in told.text
    await group.expect_silence(1.0)
    [row] = await _rows(world, "meeting_notice")
    assert row.status == OutboxStatus.pending
    assert row.not_before == datetime(2026, 11, 20, 3, 0, tzinfo=row.not_before.tzinfo)

    world.app.clock.advance(hours=1, minutes=1)
    world.sender.wake()
    await group.expect("学习党章")

    await m2.press(t["cant"], chat=group)
    await m2.expect(t["why"])  # they are waiting for it: quiet hours do not hold it


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_group_that_removed_the_bot_makes_the_leaders_hear(world, lang):
    t, x = T[lang], TEXT[lang]
    sec, m1, _m2, _group = await _people(world, lang)
    # The branch's group, as it is after someone removed the bot from it.
    gone = await world.emu.create_group("旧群", members=[m1], admins=[sec], bot_status="left")

    async def relink(session, now):
        await session.execute(
            update(Organisation)
            .where(Organisation.group_chat_id.is_not(None))
            .values(group_chat_id=gone.id)
        )

    await world.seed(relink)
    await _announce(sec, t, t["posted"])
    told = await sec.expect(x["lost"])
    assert "/linkgroup" in told.text
    [row] = await _rows(world, "meeting_notice")
    assert row.status == OutboxStatus.unreachable


STEPS = {
    "zh": {
        "back": "◀ 返回",
        "cancel": "✖ 取消",
        "kind_q": "哪类会议",
        "day_q": "哪一天召开",
        "where_q": "请输入时间和地点",
        "cancelled": "未发布任何内容",
    },
    "en": {
        "back": "◀ Back",
        "cancel": "✖ Cancel",
        "kind_q": "Which meeting",
        "day_q": "On which day",
        "where_q": "Type the time and place",
        "cancelled": "Nothing was posted",
    },
}


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_every_announce_step_has_back_and_cancel(world, lang):
    """The date calendar, the time/place and the topic step each offer Back and Cancel, as
    the meeting log's steps do; Back walks to the previous step, Cancel posts nothing."""
    t, s = T[lang], STEPS[lang]
    sec, _m1, _m2, group = await _people(world, lang)
    await sec.send("/announce")
    kind = await sec.expect(s["kind_q"])
    assert kind.has_button(s["cancel"]) and not kind.has_button(s["back"])
    await sec.press(t["general"])
    day = await sec.expect(s["day_q"], edited=True)
    assert day.buttons[-1] == [s["back"], s["cancel"]]
    await sec.press("▶")  # a turned month keeps the row
    day = await sec.expect(s["day_q"], edited=True)
    assert day.buttons[-1] == [s["back"], s["cancel"]]
    await sec.press(s["back"])
    await sec.expect(s["kind_q"], edited=True)
    await sec.press(t["general"])
    await sec.expect(s["day_q"], edited=True)  # still on the month turned to
    await sec.press("◀")
    await sec.expect(s["day_q"], edited=True)
    await sec.press("[20]")
    where = await sec.expect(s["where_q"], edited=True)
    assert where.buttons == [[s["back"], s["cancel"]]]
    await sec.send("19:30 村部会议室")
    topic = await sec.expect(t["topic_q"])
    assert topic.buttons == [[s["back"], s["cancel"]]]
    await sec.press(s["back"], message=topic)
    await sec.expect(s["where_q"], edited=True)
    await sec.press(s["cancel"], message=topic)
    await sec.expect(s["cancelled"], edited=True)
    await sec.send("学习党章")  # the conversation is over: no notice from a stray text
    await group.expect_silence()
    assert await _rows(world, "meeting_notice") == []
