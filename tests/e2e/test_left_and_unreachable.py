"""Members who left lose their rights at once; a member who blocked the bot is marked
unreachable for their secretary until they write again (issue 8, items 3 and 17)."""

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
        "no_checklist": "您不是支部党员",
        "roster": "党员名册",
        "approve": "✅ 通过",
        "sent": "已发送给支部书记",
        "unreachable": "无法送达",
        "not_on": "名册里没有我",
    },
    "en": {
        "lang": "en",
        "denied": "You are not allowed to do that",
        "no_checklist": "You are not a member of a branch",
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
    for command, refusal in (
        ("/month", "no_checklist"),
        ("/roster", "denied"),
        ("/invite", "denied"),
    ):
        await secretary.send(command)
        answer = await secretary.expect()
        assert t[refusal] in answer.text, (command, answer.text)
    # A button from before leaving does nothing either.
    pressed = await secretary.press("王组织 ☆ ✓", message=old_roster)
    assert pressed.answered and pressed.show_alert and t["denied"] in (pressed.text or "")

    async def state(session, now):
        m = await _member(session, 500)
        leaders = [x.name for x in await members.leaders(session, m.org_id)]
        return m.role, m.status, leaders, await onboarding.approvers(session, m.org_id)

    role, status, leaders, approvers = await world.seed(state)
    assert (role, status) == (Role.member, MemberStatus.left)
    assert leaders == ["王组织"] and approvers == [501]


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_member_who_blocked_the_bot_is_marked_until_they_write(world, lang):
    t = T[lang]
    _, code = await world.seed(_branch)
    secretary = await world.emu.create_user("李书记", user_id=500, language_code=t["lang"])
    await secretary.send("/help")
    await secretary.expect()
    newcomer = await world.emu.create_user("Xiao", language_code=t["lang"])
    await newcomer.send(f"/start {code}")
    await newcomer.expect()
    await newcomer.expect()
    await newcomer.press(t["not_on"])
    await newcomer.expect()
    await newcomer.send("陈晓")
    await newcomer.expect(t["sent"])
    await secretary.expect("陈晓")
    await newcomer.block_bot()
    await secretary.press(t["approve"])  # telling the newcomer fails with 403
    await secretary.expect(edited=True)
    # One update per user at a time: the answer to this one means the approval committed.
    await secretary.send("/help")
    await secretary.expect()

    async def mark(session, now):
        return (await _member(session, newcomer.id)).unreachable_at

    assert await world.seed(mark) is not None
    await secretary.send("/roster")
    roster = await secretary.expect(t["roster"])
    assert t["unreachable"] in roster.text
    assert roster.has_button("陈晓 🚫") and roster.has_button("李书记 ★ ✓")
    await secretary.press("陈晓 🚫")
    card = await secretary.expect(edited=True)
    assert t["unreachable"] in card.text

    await newcomer.send("/help")  # writing again unblocks the bot and clears the mark
    await newcomer.expect()
    await newcomer.send("/me")  # answered only after the /help update committed
    await newcomer.expect()
    assert await world.seed(mark) is None
    await secretary.send("/roster")
    again = await secretary.expect(t["roster"])
    assert again.has_button("陈晓 ✓")
