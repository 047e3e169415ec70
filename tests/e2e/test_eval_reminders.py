"""A vote reminder travels the whole way: the scheduler's job writes it, the sender
delivers it through the emulator, and its button opens the ballot — to the member who
has not voted only, in Chinese and English."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.app import job_context
from bot.scheduler import evaluation as eval_jobs
from bot.services import evaluation
from tests.e2e.test_evaluation import (
    FIRST_TG,
    VOTER,
    VRUBRIC,
    T,
    _branch,
    _everyone,
    _others_vote,
    _principal,
)

REMINDER = {
    "zh": ("您尚未参加 2026 民主评议的民主测评投票", "不能关闭"),
    "en": ("You have not voted yet in the democratic evaluation 2026", "cannot be muted"),
}


async def _to_vote(session, now):
    cid = await _branch(session, now)
    people, branch = await _everyone(session)
    sec = _principal(people, branch, 0)
    await evaluation.advance(session, sec, now, now.date(), cid, "self", VRUBRIC)
    await session.flush()
    await _others_vote(session, now, cid)  # everyone but VOTER


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_last_day_reminder_reaches_only_who_has_not_voted(world, lang):
    t, (says, mandatory) = T[lang], REMINDER[lang]
    await world.seed(_to_vote)
    me = await world.emu.create_user("党员05", user_id=FIRST_TG + VOTER, language_code=t["lang"])
    voted = await world.emu.create_user("党员06", user_id=FIRST_TG + 6, language_code=t["lang"])
    # Their language is what Telegram says until they choose: the bot learns it from them.
    await me.send("/evaluation")
    await me.expect(t["home"])
    await voted.send("/evaluation")
    await voted.expect(t["home"])

    # The vote (opened on 20 November) closes at the end of Friday 11 December.
    world.app.clock.at = datetime(2026, 12, 11, 9, 5, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(
        UTC
    )
    for _ in range(2):  # a second run (a restart) adds nothing
        ctx = job_context(world.app)
        for spec in eval_jobs.jobs.specs:
            await spec.func(ctx)
    world.sender.wake()

    reminder = await me.expect(says)
    assert mandatory in reminder.text and "2026-12-11" in reminder.text
    assert reminder.buttons == [[t["vote"]]]
    await me.press(t["vote"])
    await me.expect(t["marked"].format(n=0))
    await me.expect_silence()  # one reminder, not two
    await voted.expect_silence()
