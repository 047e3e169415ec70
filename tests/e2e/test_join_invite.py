"""Joining needs the invite the person opened: forged, replayed and revoked presses are
refused without a name, a row or a ping (issue 8, items 1 and 11)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.db.models import Invite, JoinRequest, Member
from bot.services import onboarding
from handlers.callbacks import JoinAsk, JoinNew, JoinPage, JoinPick
from tests.e2e.seeds import ROOT
from tests.e2e.test_onboarding import T as JOIN_T
from tests.e2e.test_onboarding import _branch_with_roster

T = {
    "zh": {
        **JOIN_T["zh"],
        "no_invite": "请打开支部书记发给您的邀请链接",
        "withdrawn": "邀请链接已作废",
        "bidi": "改变文字方向",
        "formula": "不能以 =、+、- 或 @ 开头",
    },
    "en": {
        **JOIN_T["en"],
        "no_invite": "To join, open the invite link",
        "withdrawn": "has been withdrawn",
        "bidi": "reverse the direction of text",
        "formula": "cannot start with =, +, - or @",
    },
}


async def _requests(world) -> int:
    async def count(session, now):
        return (await session.execute(select(func.count()).select_from(JoinRequest))).scalar_one()

    return await world.seed(count)


async def _member_ids(session, now):
    return list((await session.execute(select(Member.id))).scalars())


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_stranger_without_an_invite_learns_nothing(world, lang):
    t = T[lang]
    await world.seed(_branch_with_roster)
    secretary = await world.emu.create_user("李书记", user_id=500, language_code=t["lang"])
    stranger = await world.emu.create_user("Eve", language_code=t["lang"])
    await stranger.send("/start")
    hello = await stranger.expect(t["intro"])
    forged = [
        JoinPage(page=0),
        JoinNew(),
        *(JoinPick(member=i) for i in await world.seed(_member_ids)),
    ]
    forged.append(JoinAsk(member=2))
    for data in forged:
        answer = await stranger.press_data(data.pack(), hello.message_id, force=True)
        assert answer.answered and answer.show_alert and t["no_invite"] in answer.text, data
    # No name in any message or alert, no request filed, no leader pinged.
    names = ["张伟", "刘00", "李书记"]
    for message in await stranger.messages():
        assert not any(name in message.text for name in names) and not message.buttons[1:]
    assert await _requests(world) == 0
    await secretary.expect_silence()


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_presses_are_rechecked_against_the_invite(world, lang):
    t = T[lang]
    code = await world.seed(_branch_with_roster)
    newcomer = await world.emu.create_user("Xiao", language_code=t["lang"])
    await newcomer.send(f"/start {code}")
    await newcomer.expect(t["joining"])
    listing = await newcomer.expect()
    # The conversation ends (/cancel): the old buttons no longer act.
    await newcomer.send("/cancel")
    await newcomer.expect()
    answer = await newcomer.press("刘00", message=listing)
    assert answer.show_alert and t["no_invite"] in answer.text

    # Opened again, then the secretary withdraws every invite: the next press is refused.
    await newcomer.send(f"/start {code}")
    await newcomer.expect(t["joining"])
    listing = await newcomer.expect()

    async def revoke(session, now):
        branch = await session.scalar(select(Invite.org_id).where(Invite.code == code))
        return await onboarding.revoke_invites(session, ROOT, now, branch)

    assert await world.seed(revoke) == 1
    for label in ("▶", t["not_on"], "刘00"):
        answer = await newcomer.press(label, message=listing)
        assert answer.show_alert and t["withdrawn"] in answer.text, label
    assert await _requests(world) == 0


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_typed_name_must_be_a_name(world, lang):
    t = T[lang]
    code = await world.seed(_branch_with_roster)
    newcomer = await world.emu.create_user("Xiao", language_code=t["lang"])
    await newcomer.send(f"/start {code}")
    await newcomer.expect(t["joining"])
    await newcomer.expect()
    await newcomer.press(t["not_on"])
    await newcomer.expect(t["type_name"])
    await newcomer.send("\u202e晓陈")
    await newcomer.expect(t["bidi"])
    await newcomer.send('=HYPERLINK("http://x")')
    await newcomer.expect(t["formula"])
    assert await _requests(world) == 0
    await newcomer.send("陈\u200b晓")  # still in the name step: a plain name goes through
    await newcomer.expect(t["sent"])

    async def names(session, now):
        return list((await session.execute(select(JoinRequest.name))).scalars())

    assert await world.seed(names) == ["陈晓"]
