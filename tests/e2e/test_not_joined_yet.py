"""Someone on the roster who has not joined yet, and staff, sending /month or /evaluation
(found walking the demo): they were told "you are not a member of a branch" — wrong for
a person on the roster, and a dead end for both. The newcomer is now told how to join,
the staff where each branch's checklist is."""

from __future__ import annotations

import pytest

from tests.e2e import seeds

STAFF, NEWCOMER = 8101, 5199

T = {
    "zh": {
        "lang": "zh-hans",
        "month": "您还没有加入支部，暂无任务清单。请打开支部书记发给您的邀请链接加入。",
        "eval": "您还没有加入支部，暂无民主评议。请打开支部书记发给您的邀请链接加入。",
        "staff": "工作人员请在 /orgs 中打开党支部，点“📋 任务清单”",
    },
    "en": {
        "lang": "en",
        "month": "You have not joined a branch yet, so there is no checklist. To join, open the "
        "invite link your branch secretary gives you.",
        "eval": "You have not joined a branch yet, so there is no evaluation. To join, open the "
        "invite link your branch secretary gives you.",
        "staff": "Staff see each branch's checklist in /orgs (open the branch, then 📋 Checklist)",
    },
}


async def _city(session, now):
    await seeds.city(session, now, staff=(STAFF, "组织部"))


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_newcomer_and_staff_are_told_where_to_go_not_that_they_are_no_member(world, lang):
    t = T[lang]
    await world.seed(_city)
    newcomer = await world.emu.create_user("陈晓", user_id=NEWCOMER, language_code=t["lang"])
    await newcomer.send("/month")
    await newcomer.expect(t["month"])
    await newcomer.send("/evaluation")
    await newcomer.expect(t["eval"])

    staff = await world.emu.create_user("组织部", user_id=STAFF, language_code=t["lang"])
    await staff.send("/month")
    await staff.expect(t["staff"])
