"""/linkgroup never moves a link silently (zh and en): a group of another branch is
refused with that branch's name; a branch's move to a new group waits for its leader's
confirmation in the group, which a plain member cannot give."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.db.models import Organisation
from bot.services import members, orgs
from tests.e2e import seeds
from tests.e2e.test_onboarding import ROOT

SEC, OTHER_SEC, MEMBER = 500, 600, 700

T = {
    "zh": {
        "lang": "zh-hans",
        "linked": "本群已绑定红旗村党支部",
        "taken": "本群已绑定红旗村党支部，因此未绑定到您所在的支部",
        "ask": "红旗村党支部已绑定了另一个群",
        "link_here": "✅ 绑定到本群",
        "moved": "本群已绑定红旗村党支部",
        "again": "本群此前已绑定红旗村党支部，会议通知会发在本群，无需再次绑定。",
    },
    "en": {
        "lang": "en",
        "linked": "This group is now linked to 红旗村党支部",
        "taken": "already linked to 红旗村党支部, so it was not linked to your branch",
        "ask": "红旗村党支部 is already linked to another group",
        "link_here": "✅ Link here",
        "moved": "This group is now linked to 红旗村党支部",
        "again": "This group was already linked to 红旗村党支部: meeting notices are posted here. "
        "Nothing was changed.",
    },
}


async def _two_branches(session, now):
    city = await seeds.city(session, now)
    branch = await seeds.village_branch(session, now, city, SEC)
    plain = await members.add_member(
        session, ROOT.actor, now, org_id=branch.id, name="张伟", category="rural_community"
    )
    await members.link_telegram(session, ROOT.actor, now, plain, MEMBER)
    other = await orgs.create_org(
        session, ROOT.actor, now, name="东风社区党支部", kind="branch", parent_id=city.id,
        domain="community",
    )  # fmt: skip
    sec = await members.add_member(
        session, ROOT.actor, now, org_id=other.id, name="王书记", category="rural_community"
    )
    await members.set_role(session, ROOT.actor, now, sec, "secretary")
    await members.link_telegram(session, ROOT.actor, now, sec, OTHER_SEC)


async def _groups(session, now):
    rows = await session.execute(
        select(Organisation.name, Organisation.group_chat_id).where(Organisation.kind == "branch")
    )
    return dict(rows.all())


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_linkgroup_refuses_or_asks_before_moving(world, lang):
    t = T[lang]
    await world.seed(_two_branches)
    emu = world.emu
    sec = await emu.create_user("李书记", user_id=SEC, language_code=t["lang"])
    other = await emu.create_user("王书记", user_id=OTHER_SEC, language_code=t["lang"])
    member = await emu.create_user("张伟", user_id=MEMBER, language_code=t["lang"])
    first = await emu.create_group("支部群", members=[other, member], admins=[sec])
    await sec.send_in(first, "/linkgroup")
    await first.expect(t["linked"])
    # Sent again (the leader unsure it worked): said to be so already, not "now linked".
    await sec.send_in(first, "/linkgroup")
    await first.expect(t["again"])

    await other.send_in(first, "/linkgroup")
    await first.expect(t["taken"])

    second = await emu.create_group("新群", members=[member], admins=[sec])
    await sec.send_in(second, "/linkgroup")
    question = await second.expect(t["ask"])
    assert question.has_button(t["link_here"])
    before = await world.seed(_groups)
    assert before["红旗村党支部"] == first.id and before["东风社区党支部"] is None

    refused = await member.press(t["link_here"], chat=second, message=question)
    assert refused.show_alert
    assert (await world.seed(_groups)) == before

    await sec.press(t["link_here"], chat=second, message=question)
    moved = await second.expect(t["moved"], edited=True)
    assert not moved.inline_keyboard
    assert (await world.seed(_groups))["红旗村党支部"] == second.id
