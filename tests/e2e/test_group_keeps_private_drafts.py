"""Pressing "I can't come" in the group does not destroy an unfinished conversation in
the presser's private chat (issue 8, item 9): the reason is asked for, and the meeting
log the secretary was filling in comes back intact afterwards."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.db.models import Meeting, Rsvp
from tests.e2e.test_month import SECRETARY, _finish_log, _start_log
from tests.e2e.test_month import T as TM
from tests.e2e.test_month_group_stars import T as TG
from tests.e2e.test_month_group_stars import _with_members

KEPT = {"zh": "刚才未完成的操作已保留", "en": "What you were doing before is kept"}


async def _announce(sec, group, t):
    await sec.send_in(group, "/linkgroup")
    await group.expect(t["linked"])
    await sec.send("/announce")
    await sec.expect()
    await sec.press(t["general"])
    await sec.expect(edited=True)
    await sec.press("[20]")
    await sec.expect(edited=True)
    await sec.send("19:30 村部会议室")
    await sec.expect(t["topic_q"])
    await sec.send("学习党章")
    await sec.expect(t["posted"])
    await group.expect("学习党章")


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_cant_come_in_the_group_keeps_the_meeting_log_draft(world, lang):
    tg, tm = TG[lang], TM[lang]
    await world.seed(_with_members, "en" if lang == "en" else None)  # the group's language
    emu = world.emu
    sec = await emu.create_user("李书记", user_id=SECRETARY, language_code=tg["lang"])
    group = await emu.create_group("红旗村党支部群", members=[], admins=[sec])
    await _announce(sec, group, tg)

    await _start_log(sec, tm)  # the draft now waits at "who attended"
    await sec.press(tm["all"])
    await sec.expect(edited=True)
    await sec.press(tg["cant"], chat=group)
    await sec.expect(tg["why"])
    await sec.send("另有公务")
    back = await sec.expect(tg["thanks"])
    assert KEPT[lang] in back.text

    await _finish_log(sec, tm, tm["topic"])
    await sec.expect(tm["saved"])

    async def stored(session, now):
        meetings = await session.execute(
            select(func.count(Meeting.id)).where(Meeting.topic == tm["topic"])
        )
        reasons = await session.execute(select(Rsvp.reason).where(Rsvp.coming.is_(False)))
        return meetings.scalar_one(), reasons.scalars().all()

    assert await world.seed(stored) == (1, ["另有公务"])
