"""Someone whose role was taken away is told so (issue 8, item 15): a secretary relieved
of the role, staff removed from their committee and a member who left get "your role
changed" for an old button and for a command, instead of a bare refusal; the old
button's keyboard goes and a command brings the menu they have now."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.db.models import Member, Organisation
from bot.services import members, tree
from tests.e2e import seeds
from tests.e2e.seeds import ROOT
from tests.e2e.test_admin import labels
from tests.e2e.test_group_keeps_private_drafts import _announce
from tests.e2e.test_month import SECRETARY
from tests.e2e.test_month_group_stars import M1, _with_members
from tests.e2e.test_month_group_stars import T as TG

STAFF = 600
T = {
    "zh": {
        "lang": "zh-hans",
        "roster": "党员名册",
        "orgs": "冷水江市委",
        "members_2": "党员 2 名",
        "changed": "发出此按钮后您的职务已有变动",
        "changed_now": "您的职务已有变动",
        "left": "您已不在红旗村党支部的党员名册中",
        "left_me": "组织关系已转出",
        "denied": "您没有权限进行此操作",
        "menu_roster": "👥 支部名册",
        "menu_orgs": "🏛 党组织管理",
        "menu_month": "📋 本月任务",
    },
    "en": {
        "lang": "en",
        "roster": "Roster of",
        "orgs": "冷水江市委",
        "members_2": "members: 2",
        "changed": "Your role has changed since this button was sent",
        "changed_now": "Your role has changed, so you can no longer do this",
        "left": "you are no longer on the roster of 红旗村党支部",
        "left_me": "your membership there has ended",
        "denied": "You are not allowed to do that",
        "menu_roster": "👥 Branch roster",
        "menu_orgs": "🏛 Organisations",
        "menu_month": "📋 This month",
    },
}


async def _branch(session, now):
    city = await seeds.city(session, now, staff=(STAFF, "王科长"))
    branch = await seeds.village_branch(session, now, city, 500)
    await members.add_member(
        session, ROOT.actor, now, org_id=branch.id, name="王芳", category="rural_community"
    )
    return branch.id


async def _member(session, telegram_id: int) -> Member:
    found = await session.execute(select(Member).where(Member.telegram_id == telegram_id))
    return found.scalar_one()


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_secretary_relieved_of_the_role_is_told(world, lang):
    t = T[lang]
    await world.seed(_branch)
    secretary = await world.emu.create_user("李书记", user_id=500, language_code=t["lang"])
    await secretary.send("/start")  # the menu of a secretary
    await secretary.expect("李书记")
    await secretary.send("/roster")
    old_roster = await secretary.expect(t["roster"])
    assert t["menu_roster"] in labels(await secretary.reply_keyboard())

    async def relieve(session, now):
        await members.set_role(session, ROOT.actor, now, await _member(session, 500), "member")

    await world.seed(relieve)
    pressed = await secretary.press("王芳", message=old_roster)
    assert pressed.show_alert and t["changed"] in pressed.text
    stripped = await secretary.expect(edited=True)  # the old keyboard is taken away
    assert stripped.message_id == old_roster.message_id and not stripped.buttons

    await secretary.send(t["menu_roster"])  # the old menu's button
    answer = await secretary.expect(t["changed_now"])
    assert "/help" in answer.text
    menu = labels(await secretary.reply_keyboard())
    assert t["menu_roster"] not in menu and t["menu_month"] in menu  # the menu of a member


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_staff_removed_from_their_committee_are_told(world, lang):
    t = T[lang]
    await world.seed(_branch)
    staff = await world.emu.create_user("王科长", user_id=STAFF, language_code=t["lang"])
    stranger = await world.emu.create_user("Eve", language_code=t["lang"])
    await staff.send("/start")
    await staff.expect()
    await staff.send("/orgs")
    old = await staff.expect()
    assert old.has_button(f"{t['orgs']} · {t['members_2']}")
    assert t["menu_orgs"] in labels(await staff.reply_keyboard())

    async def remove(session, now):
        city = await session.scalar(select(Organisation).where(Organisation.name == "冷水江市委"))
        await tree.remove_staff(session, ROOT.actor, now, city, STAFF)

    await world.seed(remove)
    label = next(b for row in old.buttons for b in row)
    pressed = await staff.press(label, message=old)
    assert pressed.show_alert and t["changed"] in pressed.text
    stripped = await staff.expect(edited=True)
    assert stripped.message_id == old.message_id and not stripped.buttons

    await staff.send("/orgs")
    await staff.expect(t["changed_now"])
    assert await staff.reply_keyboard() is None  # nothing left to offer: the menu goes

    await stranger.send("/orgs")  # never staff: the plain refusal
    answer = await stranger.expect()
    assert t["denied"] in answer.text and t["changed_now"] not in answer.text


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_member_who_left_is_told_they_left(world, lang):
    t = T[lang]
    await world.seed(_branch)
    secretary = await world.emu.create_user("李书记", user_id=500, language_code=t["lang"])
    await secretary.send("/start")
    await secretary.expect("李书记")
    await secretary.send("/roster")
    old_roster = await secretary.expect(t["roster"])

    async def leave(session, now):
        await members.update_member(
            session, ROOT.actor, now, await _member(session, 500), status="left"
        )

    await world.seed(leave)
    pressed = await secretary.press("王芳", message=old_roster)
    assert pressed.show_alert and t["left"] in pressed.text
    stripped = await secretary.expect(edited=True)
    assert stripped.message_id == old_roster.message_id and not stripped.buttons
    for command in ("/month", "/roster", t["menu_roster"]):
        await secretary.send(command)
        answer = await secretary.expect(t["left"])
        assert t["denied"] not in answer.text, command
    assert await secretary.reply_keyboard() is None
    await secretary.send("/me")
    await secretary.expect(t["left_me"])
    await secretary.send("/start")
    await secretary.expect(t["left_me"])
    assert await secretary.reply_keyboard() is None


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_member_who_left_answering_a_group_notice_is_told_and_the_notice_stays(world, lang):
    tg = TG[lang]
    await world.seed(_with_members, "en" if lang == "en" else None)  # the group's language
    sec = await world.emu.create_user("李书记", user_id=SECRETARY, language_code=tg["lang"])
    m1 = await world.emu.create_user("刘00", user_id=M1, language_code=tg["lang"])
    group = await world.emu.create_group("红旗村党支部群", members=[m1], admins=[sec])
    await _announce(sec, group, tg)
    notice = await group.last_message()

    async def leave(session, now):
        await members.update_member(
            session, ROOT.actor, now, await _member(session, M1), status="left"
        )

    await world.seed(leave)
    pressed = await m1.press(tg["come"], chat=group)
    assert pressed.show_alert and "刘00" not in pressed.text
    assert ("已不在" if lang == "zh" else "no longer on the roster") in pressed.text
    kept = [m for m in await group.messages() if m.message_id == notice.message_id]
    assert kept[0].buttons == [[tg["come"], tg["cant"]]]  # everyone else can still answer
