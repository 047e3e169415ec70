"""Conversation steps survive hostile input (issue 8, item 7): a forged calendar month or
year, and a count typed in digits `int` cannot read, get an answer — and the step
keeps working afterwards."""

from __future__ import annotations

import pytest

from tests.e2e.test_month import SECRETARY, T, _branch

EXPIRED = {"zh": "此按钮已失效", "en": "This button has expired"}
RANGE = {"zh": "1", "en": "between 1 and 999"}
NOTE = {"zh": "简要", "en": "short note"}
FAILED = ("That failed", "操作失败")


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_forged_calendar_month_or_year_leaves_the_date_step_working(world, lang):
    t = T[lang]
    await world.seed(_branch)
    sec = await world.emu.create_user("李书记", user_id=SECRETARY, language_code=t["lang"])
    await sec.send("/month")
    await sec.expect(t["progress"])
    await sec.press("📝 " + t["log"])
    await sec.expect()
    await sec.press(t["general"])
    calendar = await sec.expect(edited=True)
    for forged in ("cl:nav:2026:13:0", "cl:nav:999999:1:0", "cl:pick:2026:13:1", "cl:nav:0:0:0"):
        answer = await sec.press_data(forged, calendar.message_id, force=True)
        assert answer.answered and EXPIRED[lang] in answer.text, (forged, answer)
    await sec.press(t["today"])
    await sec.expect(edited=True)
    await sec.press(t["skip"])
    await sec.expect(t["who"], edited=True)
    assert not any(f in m.text for m in await sec.messages() for f in FAILED)


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_unicode_digits_typed_as_a_count(world, lang):
    t = T[lang]
    branch = await world.seed(_branch)
    sec = await world.emu.create_user("李书记", user_id=SECRETARY, language_code=t["lang"])
    await sec.send("/month")
    month = await sec.expect(t["progress"])
    await sec.press_data(f"ri:{branch}:member_education", month.message_id, force=True)
    await sec.expect()
    for odd in ("²", "①", "⁵", "9" * 40):
        await sec.send(odd)
        assert RANGE[lang] in (await sec.expect()).text
    await sec.send("１２")  # full-width digits, as a Chinese keyboard types them
    await sec.expect(NOTE[lang])
    assert not any(f in m.text for m in await sec.messages() for f in FAILED)
