"""The committee-meeting summary and the saved report show the same numbers, and the
summary says who counts before saving (issue 8, item 16)."""

from __future__ import annotations

import re

import pytest

from tests.e2e.test_month import PNG, SECRETARY, T, _branch

COMMITTEE = {"zh": "支委会", "en": "branch committee meeting"}
WHO = {"zh": "支委会只计算支部委员会成员", "en": "only the branch committee counts"}


def numbers(text: str) -> tuple[int, int]:
    """(present, total) from the attendance line of the summary or the saved report."""
    for pattern, order in (
        (r"(\d+) of (\d+)", (1, 2)),
        (r"(\d+) 人中到会 (\d+)", (2, 1)),
        (r"应计 (\d+) 人，实到 (\d+)", (2, 1)),
    ):
        found = re.search(pattern, text)
        if found:
            return int(found.group(order[0])), int(found.group(order[1]))
    raise AssertionError(text)


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_committee_meeting_numbers_agree_between_summary_and_report(world, lang):
    t = T[lang]
    await world.seed(_branch)  # 10 members, one of them (the secretary) on the committee
    sec = await world.emu.create_user("李书记", user_id=SECRETARY, language_code=t["lang"])
    await sec.send("/month")
    await sec.expect(t["progress"])
    await sec.press("📝 " + t["log"])
    await sec.expect()
    await sec.press(COMMITTEE[lang])
    await sec.expect(edited=True)
    await sec.press(t["today"])
    await sec.expect(edited=True)
    await sec.press(t["skip"])
    await sec.expect(t["who"], edited=True)
    await sec.press(t["all"])
    picked = await sec.expect(edited=True)
    done = next(b for row in picked.buttons for b in row if t["done"] in b)
    assert "1/1" in done, done  # the keyboard counts the committee, not the branch
    await sec.press(t["done"])
    await sec.expect(edited=True)
    await sec.send("研究发展党员工作")
    await sec.expect()
    await sec.press(t["skip"])
    await sec.expect()
    await sec.send_photo(PNG)
    await sec.expect()
    await sec.press(t["done"])
    summary = await sec.expect()
    [line] = [x for x in summary.text.splitlines() if WHO[lang] in x]
    await sec.press("💾 " + t["save"])
    report = await sec.expect(t["saved"])
    [quorum] = [x for x in report.text.splitlines() if t["met"] in x]
    assert numbers(line) == numbers(quorum) == (1, 1)
