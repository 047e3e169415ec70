"""Onboarding stories, as users in the emulator, in Chinese and English."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.db.models import JoinRequest, Member
from bot.services import members, onboarding, orgs
from bot.services.members import Principal
from tests.e2e import seeds
from tests.e2e.conftest import SUPERUSER

ROOT = Principal(telegram_id=SUPERUSER, is_superuser=True)

T = {
    "zh": {
        "lang": "zh-hans",
        "intro": "邀请链接",
        "joining": "您正在加入",
        "share": "分享您的手机号",
        "welcome": "欢迎您",
        "not_on": "名册里没有我",
        "type_name": "请输入您在支部登记的姓名",
        "sent": "已发送给支部书记",
        "approve": "通过",
        "approved": "您的申请已通过",
        "mismatch": "不一致",
        "conflict": "已绑定了其他",
        "me": "所在支部",
        "bad": "无效",
        "revoked": "已作废",
        "to_staff": "已发送给上级党组织的工作人员",
        "comes_to_you": "由您审核",
        "secretary_role": "名册登记为李强，支部书记",
        "withdrawn": "已撤回这份申请",
        "ask_staff": "请上级党组织确认我的身份",
        "linked_as": "已绑定为李强",
        "on_roster": "李强已在本支部名册中，尚未绑定",
        "you_lead": "名册中您是支部书记",
    },
    "en": {
        "lang": "en",
        "intro": "invite link",
        "joining": "You are joining",
        "share": "share your phone number",
        "welcome": "Welcome",
        "not_on": "I am not on the roster",
        "type_name": "full name",
        "sent": "sent to the branch secretary",
        "approve": "Approve",
        "approved": "was approved",
        "mismatch": "does not match",
        "conflict": "already linked",
        "me": "Branch:",
        "bad": "not valid",
        "revoked": "withdrawn",
        "to_staff": "sent to the superior organisation's staff",
        "comes_to_you": "so it comes to you",
        "secretary_role": "on the roster as 李强, the branch secretary",
        "withdrawn": "has withdrawn this request",
        "ask_staff": "Ask the superior organisation to confirm me",
        "linked_as": "is now linked as 李强",
        "on_roster": "李强 is on this branch's roster and not yet linked",
        "you_lead": "The roster names you as the branch secretary",
    },
}


async def _branch_with_roster(session, now):
    branch = await seeds.village_branch(session, now, await seeds.city(session, now), 500)
    for i in range(11):
        await members.add_member(
            session,
            ROOT.actor,
            now,
            org_id=branch.id,
            name=f"刘{i:02d}",
            category="rural_community",
        )
    await members.add_member(
        session,
        ROOT.actor,
        now,
        org_id=branch.id,
        name="张伟",
        category="rural_community",
        phone="13800000003",
    )
    invite = await onboarding.create_invite(session, ROOT, now, branch.id)
    return invite.code


async def pick_from_roster(user, code, name):
    await user.send(f"/start {code}")
    await user.send(name)
    while not (await user.expect()).has_button(name):
        pass  # skip the greeting and the unfiltered first page
    await user.press(name)


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_join_by_invite_search_and_contact(world, lang):
    t = T[lang]
    code = await world.seed(_branch_with_roster)
    zhang = await world.emu.create_user("Wei", language_code=t["lang"], phone="+86 138 0000 0003")
    await zhang.send("/start")
    await zhang.expect(t["intro"])
    await zhang.send(f"/start {code}")
    await zhang.expect(t["joining"])
    listing = await zhang.expect()  # 12 unlinked people: more than one page
    assert ["1/2", "▶"] in listing.buttons and ["张伟"] not in listing.buttons
    await zhang.press("▶")
    second = await zhang.expect(edited=True)
    assert ["张伟"] in second.buttons
    await zhang.send("张")
    found = await zhang.expect()
    assert found.buttons[0] == ["张伟"]
    await zhang.press("张伟")
    await zhang.expect(t["share"])
    await zhang.share_contact()
    await zhang.expect(t["welcome"])
    await zhang.send("/me")
    me = await zhang.expect(t["me"])
    assert "红旗村党支部" in me.text


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_not_on_roster_then_secretary_approves(world, lang):
    t = T[lang]
    code = await world.seed(_branch_with_roster)
    secretary = await world.emu.create_user("李书记", user_id=500, language_code=t["lang"])
    newcomer = await world.emu.create_user("Xiao", language_code=t["lang"])
    await secretary.send("/help")  # the bot learns the secretary's language
    await secretary.expect()
    await newcomer.send(f"/start {code}")
    await newcomer.expect(t["joining"])
    await newcomer.expect()
    await newcomer.press(t["not_on"])
    await newcomer.expect(t["type_name"])
    await newcomer.send("陈晓")
    await newcomer.expect(t["sent"])
    request = await secretary.expect("陈晓")
    assert request.has_button("✅ " + t["approve"])
    await secretary.press("✅ " + t["approve"])
    await secretary.expect(edited=True)
    await newcomer.expect(t["approved"])

    async def linked(session, now):
        m = await session.execute(select(Member).where(Member.telegram_id == newcomer.id))
        return m.scalar_one().name

    assert await world.seed(linked) == "陈晓"


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_wrong_contact_second_account_and_bad_codes(world, lang):
    t = T[lang]
    code = await world.seed(_branch_with_roster)
    secretary = await world.emu.create_user("李书记", user_id=500, language_code=t["lang"])
    liar = await world.emu.create_user("Liar", language_code=t["lang"], phone="13999999999")
    await pick_from_roster(liar, code, "张伟")
    await liar.share_contact()
    await liar.expect(t["mismatch"])

    real = await world.emu.create_user("Wei", language_code=t["lang"], phone="13800000003")
    await pick_from_roster(real, code, "张伟")
    await real.share_contact()
    await real.expect(t["welcome"])

    # The liar's old roster button now names a linked member: refused, secretary told.
    await liar.press("张伟")
    await liar.expect(t["conflict"])
    warning = await secretary.expect("⚠️")
    assert "张伟" in warning.text

    await liar.send("/start nonsense-code")
    await liar.expect(t["bad"])


async def new_branch(session, now, staff=(9001, "周组织")):
    """A branch as a fresh city sets it up: from the roster, its secretary not on the bot;
    its invite's code. The city's staff (Telegram id, name) are on the bot unless None."""
    branch = await orgs.create_org(
        session,
        ROOT.actor,
        now,
        name="一支部",
        kind="branch",
        parent_id=(await seeds.city(session, now, staff=staff)).id,
        domain="community",
    )
    li = await members.add_member(
        session,
        ROOT.actor,
        now,
        org_id=branch.id,
        name="李强",
        category="rural_community",
        phone="13900000001",
    )
    await members.set_role(session, ROOT.actor, now, li, "secretary")
    await members.add_member(
        session, ROOT.actor, now, org_id=branch.id, name="王芳", category="rural_community"
    )
    return (await onboarding.create_invite(session, ROOT, now, branch.id)).code


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_secretary_joining_a_new_branch_under_a_wrong_name_first(world, lang):
    """The secretary's request goes to the staff and says so; the request made under the
    wrong name is withdrawn when they link by phone, and its old Approve links nobody."""
    t = T[lang]
    code = await world.seed(new_branch)
    staff = await world.emu.create_user("周组织", user_id=9001, language_code=t["lang"])
    await staff.send("/help")  # the bot learns the staff member's language
    await staff.expect()
    li = await world.emu.create_user("Li Qiang", language_code=t["lang"], phone="+8613900000001")
    await pick_from_roster(li, code, "王芳")
    await li.expect(t["to_staff"])
    notice = await staff.expect("王芳")
    assert t["comes_to_you"] in notice.text

    await pick_from_roster(li, code, "李强")
    await li.expect(t["share"])
    await li.share_contact()
    assert t["you_lead"] in (await li.expect(t["welcome"])).text

    answer = await staff.press("✅ " + t["approve"], message=notice)
    assert answer.show_alert and t["withdrawn"] in answer.text
    settled = await staff.expect(edited=True)
    assert t["withdrawn"] in settled.text and not settled.inline_keyboard

    async def state(session, now):
        linked = await session.execute(
            select(Member.name).where(Member.telegram_id.is_not(None)).order_by(Member.name)
        )
        statuses = await session.execute(select(JoinRequest.status))
        return list(linked.scalars()), list(statuses.scalars())

    assert await world.seed(state) == (["李强"], ["withdrawn"])


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_staff_are_told_they_confirm_the_branch_secretary(world, lang):
    t = T[lang]
    code = await world.seed(new_branch)
    staff = await world.emu.create_user("周组织", user_id=9001, language_code=t["lang"])
    await staff.send("/help")
    await staff.expect()
    li = await world.emu.create_user("Li Qiang", language_code=t["lang"], phone="13700000000")
    await pick_from_roster(li, code, "李强")
    await li.share_contact()
    await li.expect(t["mismatch"])
    await li.press(t["ask_staff"])
    await li.expect(t["to_staff"])
    notice = await staff.expect("李强")
    assert t["secretary_role"] in notice.text
    await staff.press("✅ " + t["approve"], message=notice)
    done = await staff.expect(edited=True)
    assert t["linked_as"] in done.text
    assert t["you_lead"] in (await li.expect(t["approved"])).text


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_secretary_typing_their_name_as_new_is_shown_their_entry(world, lang):
    t = T[lang]
    code = await world.seed(new_branch)
    li = await world.emu.create_user("Li Qiang", language_code=t["lang"], phone="+8613900000001")
    await li.send(f"/start {code}")
    await li.expect(t["joining"])
    await li.expect()
    await li.press(t["not_on"])
    await li.expect(t["type_name"])
    await li.send("李强")
    await li.expect(t["on_roster"])
    found = await li.expect()
    assert found.buttons[0] == ["李强"]
    await li.press("李强", message=found)
    await li.expect(t["share"])
    await li.share_contact()
    await li.expect(t["welcome"])
