"""Checklist counts (found walking as a newcomer): 999 was saved at once, and an item
recorded this month could be neither seen nor corrected. An unusual count is asked to
be confirmed; the item shows what was recorded this month, and its count can be
corrected from there (a view older than the latest recording has an expired button)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.db.models import Evidence
from bot.services import evidence
from scoring import load_fortress_rubric
from tests.e2e.test_hostile_steps import BACK, EXPIRED, NOTE, secretary_at_month
from tests.e2e.test_month import ROOT, T, _branch

UNUSUAL = {"zh": "一个月 999 次", "en": "999 times in one month"}
SURE = {"zh": "✔ 确认，999 次", "en": "✔ Yes, 999"}
RECORDED = {"zh": "本月登记情况", "en": "Recorded this month:"}
FIGURE = {"zh": "本月合计：{n}", "en": "This month's figure: {n}"}
CORRECT = {"zh": "✏️ 更正", "en": "✏️ Correct"}
WHOLE_MONTH = {"zh": "本月全月的正确次数", "en": "the whole month"}
CORRECTED = {"zh": "已更正", "en": "Corrected"}
UNCHANGED = {"zh": "本月登记的已经是这个数", "en": "already the figure recorded"}


async def _total(session, now):
    key = Evidence.key == "education_sessions"
    return await session.scalar(select(func.coalesce(func.sum(Evidence.count), 0)).where(key))


async def _branch_with_999(session, now):
    branch = await _branch(session, now)
    await evidence.record_evidence(session, load_fortress_rubric(), ROOT, now, branch,
                                   "member_education", count=999)  # fmt: skip
    return branch


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_an_unusual_count_is_confirmed_before_it_is_kept(world, lang):
    t = T[lang]
    sec, branch, month = await secretary_at_month(world, lang)
    await sec.press_data(f"ri:{branch}:member_education", month.message_id, force=True)
    await sec.expect()
    await sec.send("999")
    question = await sec.expect(UNUSUAL[lang])
    # A confirmation of a number the question did not ask about is refused.
    answer = await sec.press_data("ev:sure:998", question.message_id, force=True)
    assert answer.show_alert and EXPIRED[lang] in answer.text, answer
    await sec.send("9")  # the slip, typed again right: on to the note
    await sec.expect(NOTE[lang])
    await sec.press(t["skip"])
    await sec.expect()
    await sec.press(t["skip"])  # no proof
    await sec.expect()
    assert await world.seed(_total) == 9
    # Confirmed, it is kept.
    await sec.press_data(f"ri:{branch}:member_education", month.message_id, force=True)
    await sec.expect()
    await sec.send("999")
    question = await sec.expect(UNUSUAL[lang])
    await sec.press(SURE[lang], message=question)
    await sec.expect(NOTE[lang], edited=True)
    await sec.press(t["skip"])
    await sec.expect()
    await sec.press(t["skip"])
    await sec.expect()
    assert await world.seed(_total) == 9 + 999


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_count_recorded_this_month_is_shown_and_corrected(world, lang):
    t = T[lang]
    sec, branch, month = await secretary_at_month(world, lang, _branch_with_999)
    await sec.press_data(f"iv:{branch}:member_education", month.message_id)
    view = (await sec.expect(edited=True)).text
    assert RECORDED[lang] in view and FIGURE[lang].format(n=999) in view, view
    await sec.press(CORRECT[lang], message=month)
    assert WHOLE_MONTH[lang] in (await sec.expect()).text
    await sec.send("/frobnicate")  # what the step cannot use: asked again, as it asks
    assert WHOLE_MONTH[lang] in (await sec.expect()).text
    await sec.send("999")
    await sec.expect(UNUSUAL[lang])
    await sec.send("999")  # typed again: confirmed, but it is what was recorded
    assert UNCHANGED[lang] in (await sec.expect()).text  # nothing to correct: asked again
    await sec.send("9")
    done = (await sec.expect(CORRECTED[lang])).text
    assert "999 → 9" in done, done
    assert await world.seed(_total) == 9
    # The view shown before the correction is out of date: its button has expired.
    answer = await sec.press(CORRECT[lang], message=month)
    assert answer.show_alert and EXPIRED[lang] in answer.text, answer
    await sec.expect_silence()
    await sec.press(BACK[lang], message=month)
    await sec.expect(t["progress"], edited=True)
    await sec.press_data(f"iv:{branch}:member_education", month.message_id)
    view = (await sec.expect(edited=True)).text
    assert FIGURE[lang].format(n=9) in view and "−990" in view, view
