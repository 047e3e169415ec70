"""Logging a committee meeting, every member is listed but only the committee counts: a
secretary who ticked a plain member saw "Done (0/2)" stay as it was, with nothing saying
why (found walking the demo). The step now says so for a committee meeting."""

from __future__ import annotations

import pytest

from tests.e2e.test_month import SECRETARY, T, _branch

COMMITTEE = {"zh": "支委会", "en": "branch committee meeting"}
NOTE = {
    "zh": "支委会只计算支部委员会成员，即“完成”按钮上的人数。",
    "en": "For a committee meeting only the branch committee members count: the count on “Done”.",
}


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_committee_meeting_attendance_says_only_the_committee_counts(world, lang):
    t = T[lang]
    await world.seed(_branch)
    sec = await world.emu.create_user("李书记", user_id=SECRETARY, language_code=t["lang"])
    for kind, noted in ((COMMITTEE[lang], True), (t["general"], False)):
        await sec.send("/month")
        await sec.expect(t["progress"])
        await sec.press("📝 " + t["log"])
        await sec.expect()
        await sec.press(kind)
        await sec.expect(edited=True)
        await sec.press(t["today"])
        await sec.expect(edited=True)
        await sec.press(t["skip"])
        step = await sec.expect(t["who"], edited=True)
        assert (NOTE[lang] in step.text) is noted, step.text
        await sec.send("/cancel")
        await sec.expect()
