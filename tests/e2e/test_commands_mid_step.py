"""A command sent in the middle of a conversation step is answered, and the step waits.

A secretary halfway through logging a meeting sends /rating; a member writing the
self-assessment's summary sends /mygrade. Each command gets its own answer (not the
step's hint), nothing is stored from it, and the step then goes on where it was.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.db.models import EvalSelf
from bot.services import evaluation
from handlers.callbacks import SelfMark
from tests.e2e import test_evaluation as ev
from tests.e2e import test_month as tm

STAR = {"zh": "分", "en": "of 100"}  # the star answer's score line
GRADE = {"zh": "先锋指数", "en": "Vanguard Index"}


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_rating_mid_meeting_log_is_answered_and_the_log_goes_on(world, lang):
    t = tm.T[lang]
    await world.seed(tm._branch)
    sec = await world.emu.create_user("李书记", user_id=tm.SECRETARY, language_code=t["lang"])
    await tm._start_log(sec, t)
    await sec.press(t["all"])
    await sec.expect(edited=True)
    await sec.press(t["done"])
    await sec.expect(edited=True)  # the topic step
    for command, says in (("/rating", "★"), ("/tasks", "⬜")):
        await sec.send(command)
        answer = await sec.expect()
        assert says in answer.text, (command, answer.text)
    await sec.send(t["topic"])
    await sec.expect()
    await sec.press(t["skip"])  # notes
    await sec.expect()
    await sec.press(t["done"])  # no photos
    summary = await sec.expect()
    assert t["topic"] in summary.text
    await sec.send("/rating")
    assert "★" in (await sec.expect()).text
    await sec.press("💾 " + t["save"])
    await sec.expect(t["saved"])
    assert await world.seed(tm._meetings) == [("general", True, t["topic"])]


async def _summary(session, now):
    return (await session.execute(select(EvalSelf.summary))).scalars().all()


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_mygrade_mid_self_summary_is_not_taken_as_the_summary(world, lang):
    t = ev.T[lang]
    cid = await world.seed(ev._branch)
    me = await world.emu.create_user(
        "党员05", user_id=ev.FIRST_TG + ev.VOTER, language_code=t["lang"]
    )
    await me.send("/evaluation")
    await me.expect(t["home"])
    await me.press(t["self"])
    page = await me.expect(edited=True)
    items = evaluation.self_questions(ev.VRUBRIC, "rural_community")
    for pos, item in enumerate(items):
        if pos and items[pos - 1].dimension != item.dimension:
            await me.press("▶")
            page = await me.expect(edited=True)
        await me.press_data(SelfMark(campaign=cid, item=pos, band=0).pack(), page.message_id)
        page = await me.expect(edited=True)
    await me.press(t["next"])
    await me.expect(edited=True)  # "type your summary"
    await me.send("/mygrade")
    answer = await me.expect()
    assert GRADE[lang] in answer.text and "/mygrade" not in answer.text, answer.text
    await me.send(t["summary"])
    review = await me.expect(t["summary"])
    assert "/mygrade" not in review.text
    await me.press(t["submit_self"])
    await me.expect(t["saved_self"], edited=True)
    assert await world.seed(_summary) == [t["summary"]]
