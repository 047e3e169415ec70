"""Join requests nobody could confirm when they were made: the secretary who links later
is told they wait, lists them with /requests and decides them there, in zh and en."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.db.models import InviteKind, JoinRequest, Member, Organisation, Staff
from bot.services import onboarding
from bot.services.members import Principal
from handlers.callbacks import RequestDecide
from tests.e2e.conftest import SUPERUSER
from tests.e2e.test_onboarding import new_branch, pick_from_roster

ROOT = Principal(telegram_id=SUPERUSER, is_superuser=True)

T = {
    "zh": {
        "lang": "zh-hans",
        "not_on": "名册里没有我",
        "nobody": "目前还没有人能审核",
        "share": "分享您的手机号",
        "hint": "有 2 个加入申请等待您审核，发送 /requests 查看。",
        "heading": "待您审核的加入申请：{n} 个",
        "wang": "Wang，申请认领名册中的王芳",
        "chen": "陈晓（名册中没有）",
        "approve": "✅ 通过 1. Wang",
        "reject": "❌ 不通过 1",
        "approved_toast": "已绑定为王芳",
        "approved": "您的申请已通过",
        "stale": "该申请已处理过了",
        "none": "目前没有待您审核的加入申请。",
        "denied": "您没有权限",
        "help": "/requests — 查看待您审核的加入申请",
        "hint1": "有 1 个加入申请等待您审核，发送 /requests 查看。",
        "mismatch": "不一致",
        "ask_staff": "请上级党组织确认我的身份",
        "to_staff": "已发送给上级党组织的工作人员",
        "chen_line": "1. 陈晓（名册中没有） — 一支部，",
        "notice_approve": "✅ 通过",
        "hint9": "有 9 个加入申请等待您审核，发送 /requests 查看。",
    },
    "en": {
        "lang": "en",
        "not_on": "I am not on the roster",
        "nobody": "no one can confirm it yet",
        "share": "share your phone number",
        "hint": "Join requests waiting for your decision: 2. /requests lists them.",
        "heading": "Join requests waiting for your decision: {n}",
        "wang": "Wang, as 王芳 on the roster",
        "chen": "陈晓, not on the roster",
        "approve": "✅ Approve 1. Wang",
        "reject": "❌ Reject 1",
        "approved_toast": "is now linked as 王芳",
        "approved": "was approved",
        "stale": "already been handled",
        "none": "No join requests are waiting for your decision.",
        "denied": "not allowed",
        "help": "/requests — join requests waiting for your decision",
        "hint1": "Join requests waiting for your decision: 1. /requests lists them.",
        "mismatch": "does not match",
        "ask_staff": "Ask the superior organisation to confirm me",
        "to_staff": "sent to the superior organisation's staff",
        "chen_line": "1. 陈晓, not on the roster — 一支部, ",
        "notice_approve": "✅ Approve",
        "hint9": "Join requests waiting for your decision: 9. /requests lists them.",
    },
}


async def _unattended_branch(session, now):
    """A new city with no staff on the bot, and a branch whose secretary has not linked."""
    return await new_branch(session, now, staff=None)


async def _unconfirmable_request(world, t, code):
    """陈晓, not on the roster, asks to join by the invite: nobody can confirm it yet."""
    chen = await world.emu.create_user("Xiao", language_code=t["lang"])
    await chen.send(f"/start {code}")
    await chen.expect()
    await chen.expect()
    await chen.press(t["not_on"])
    await chen.expect()
    await chen.send("陈晓")
    await chen.expect(t["nobody"])


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_secretary_who_links_later_lists_and_decides_waiting_requests(world, lang):
    t = T[lang]
    code = await world.seed(_unattended_branch)
    await _unconfirmable_request(world, t, code)
    wang = await world.emu.create_user("Wang", language_code=t["lang"])
    await pick_from_roster(wang, code, "王芳")
    await wang.expect(t["nobody"])

    li = await world.emu.create_user("Li Qiang", language_code=t["lang"], phone="+8613900000001")
    await pick_from_roster(li, code, "李强")
    await li.expect(t["share"])
    await li.share_contact()
    assert t["hint"] in (await li.expect()).text
    await li.send("/help")
    assert t["help"] in (await li.expect()).text

    await li.send("/requests")
    listing = await li.expect(t["heading"].format(n=2))
    lines = listing.text.splitlines()
    assert t["wang"] in lines[1] and t["chen"] in lines[2]  # newest first
    assert listing.buttons[0] == [t["approve"], t["reject"]]

    answer = await li.press(t["approve"], message=listing)
    assert t["approved_toast"] in answer.text and not answer.show_alert
    redrawn = await li.expect(t["heading"].format(n=1), edited=True)
    assert t["chen"] in redrawn.text and t["wang"] not in redrawn.text
    assert t["approved"] in (await wang.expect()).text

    async def wang_request(session, now):
        found = await session.execute(
            select(JoinRequest.id).where(JoinRequest.telegram_id == wang.id)
        )
        return found.scalar_one()

    # A second tap of the old Approve (a client that had not redrawn yet): refused, and
    # the list shown as it stands.
    stale = RequestDecide(request=await world.seed(wang_request), ok=False, page=0)
    again = await li.press_data(stale.pack(), listing.message_id, force=True)
    assert again.show_alert and t["stale"] in again.text

    await li.press(t["reject"], message=listing)
    assert t["none"] in (await li.expect(t["none"], edited=True)).text
    await li.send("/requests")
    await li.expect(t["none"])

    async def linked(session, now):
        found = await session.execute(
            select(Member.name, Member.telegram_id).where(Member.telegram_id.is_not(None))
        )
        statuses = await session.execute(select(JoinRequest.status).order_by(JoinRequest.id))
        return sorted(found.all()), list(statuses.scalars())

    assert await world.seed(linked) == (
        sorted([("李强", li.id), ("王芳", wang.id)]),
        ["rejected", "approved"],
    )
    await wang.send("/requests")
    await wang.expect(t["denied"])


async def _staff_from_the_cli(session, now):
    city = await session.scalar(select(Organisation).where(Organisation.name == "冷水江市委"))
    session.add(Staff(org_id=city.id, telegram_id=9001, name="周组织", created_at=now))


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_staff_added_later_and_a_secretary_they_approve_are_told(world, lang):
    t = T[lang]
    code = await world.seed(_unattended_branch)
    await _unconfirmable_request(world, t, code)

    await world.seed(_staff_from_the_cli)
    staff = await world.emu.create_user("周组织", user_id=9001, language_code=t["lang"])
    await staff.send("/start")
    assert t["hint1"] in (await staff.expect()).text
    await staff.send("/help")
    assert t["help"] in (await staff.expect()).text
    await staff.send("/requests")
    listing = await staff.expect(t["heading"].format(n=1))
    assert t["chen_line"] in listing.text

    # The branch's secretary asks the staff, who approve from the notice: the secretary
    # may decide the request still waiting, and the approval says so.
    li = await world.emu.create_user("Li Qiang", language_code=t["lang"], phone="13700000000")
    await pick_from_roster(li, code, "李强")
    await li.share_contact()
    await li.expect(t["mismatch"])
    await li.press(t["ask_staff"])
    await li.expect(t["to_staff"])
    notice = await staff.expect("李强")
    await staff.press(t["notice_approve"], message=notice)
    await staff.expect(edited=True)
    assert t["hint1"] in (await li.expect()).text
    await li.send("/requests")
    assert t["chen_line"] in (await li.expect(t["heading"].format(n=1))).text


async def _nine_waiting(session, now):
    """Nine requests made before anyone could confirm them, and a staff invite."""
    code = await _unattended_branch(session, now)
    invite = await onboarding.open_invite(session, code, now)
    for i in range(9):
        await onboarding.request_as_new(session, now, invite[0].id, 7000 + i, f"新人{i}")
    city = await session.scalar(select(Organisation).where(Organisation.name == "冷水江市委"))
    return (await onboarding.create_invite(session, ROOT, now, city.id, kind=InviteKind.staff)).code


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_staff_by_invite_are_told_and_turn_the_pages(world, lang):
    t = T[lang]
    code = await world.seed(_nine_waiting)
    staff = await world.emu.create_user("周组织", user_id=9001, language_code=t["lang"])
    await staff.send(f"/start {code}")
    assert t["hint9"] in (await staff.expect()).text
    await staff.send("/requests")
    first = await staff.expect(t["heading"].format(n=9))
    assert "新人8" in first.text.splitlines()[1]
    assert first.buttons[-1] == ["1/2", "▶"] and len(first.buttons) == 9
    await staff.press("▶", message=first)
    second = await staff.expect(edited=True)
    assert second.text.splitlines()[1].startswith("9. 新人0")
    assert second.buttons[-1] == ["◀", "2/2"]
