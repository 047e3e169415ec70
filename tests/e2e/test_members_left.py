"""Members who left lose their rights at once (issue 8, item 3)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.db.models import Member, MemberStatus, Role
from bot.services import members, onboarding
from tests.e2e import seeds
from tests.e2e.seeds import ROOT

T = {
    "zh": {
        "lang": "zh-hans",
        "denied": "您没有权限进行此操作",
        "left": "您已不在红旗村党支部的党员名册中",
        "roster": "党员名册",
        "approve": "✅ 通过",
        "sent": "已发送给支部书记",
        "unreachable": "无法送达",
        "not_on": "名册里没有我",
    },
    "en": {
        "lang": "en",
        "denied": "You are not allowed to do that",
        "left": "you are no longer on the roster of 红旗村党支部",
        "roster": "Roster of",
        "approve": "✅ Approve",
        "sent": "sent to the branch secretary",
        "unreachable": "unreachable",
        "not_on": "I am not on the roster",
    },
}


async def _branch(session, now):
    branch = await seeds.village_branch(session, now, await seeds.city(session, now), 500)
    organiser = await members.add_member(
        session, ROOT.actor, now, org_id=branch.id, name="王组织", category="rural_community"
    )
    await members.set_role(session, ROOT.actor, now, organiser, "organiser")
    await members.link_telegram(session, ROOT.actor, now, organiser, 501)
    invite = await onboarding.create_invite(session, ROOT, now, branch.id)
    return branch.id, invite.code


async def _member(session, telegram_id: int) -> Member:
    found = await session.execute(select(Member).where(Member.telegram_id == telegram_id))
    return found.scalar_one()


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_secretary_who_left_loses_every_right_at_once(world, lang):
    t = T[lang]
    await world.seed(_branch)
    secretary = await world.emu.create_user("李书记", user_id=500, language_code=t["lang"])
    await secretary.send("/roster")
    await secretary.expect(t["roster"])
    old_roster = await secretary.last_message()

    async def leave(session, now):
        await members.update_member(
            session, ROOT.actor, now, await _member(session, 500), status="left"
        )

    await world.seed(leave)
    for command in ("/month", "/roster", "/invite"):  # refused, and told why
        await secretary.send(command)
        answer = await secretary.expect()
        assert t["left"] in answer.text, (command, answer.text)
    # A button from before leaving does nothing either.
    pressed = await secretary.press("王组织 ☆ ✓", message=old_roster)
    assert pressed.answered and pressed.show_alert and t["left"] in (pressed.text or "")

    async def state(session, now):
        m = await _member(session, 500)
        leaders = [x.name for x in await members.leaders(session, m.org_id)]
        return m.role, m.status, leaders, await onboarding.approvers(session, m.org_id)

    role, status, leaders, approvers = await world.seed(state)
    assert (role, status) == (Role.member, MemberStatus.left)
    assert leaders == ["王组织"] and approvers == [501]
