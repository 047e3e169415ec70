"""Staff and secretary stories, as users in the emulator, in Chinese and English.

The superior's staff browse the tree, add units, hand out and withdraw invite links,
appoint a secretary and fix a member's record; members and secretaries see only the
menu buttons they can use; /language is remembered; the command lists are registered.
"""

from __future__ import annotations

import asyncio
import re
import time

import pytest
from sqlalchemy import select

from bot.db.models import AuditLog, Member, Organisation, Staff
from bot.emulator.testing import aiogram_bot
from bot.services import members, onboarding, orgs
from bot.services.members import Principal
from tests.e2e.conftest import SUPERUSER

ROOT = Principal(telegram_id=SUPERUSER, is_superuser=True)
STAFF_ID = 600
SECRETARY_ID = 500
MEMBER_ID = 501

T = {
    "zh": {
        "lang": "zh-hans",
        "oversee": "您管理的党组织",
        "add": "➕ 新增下级组织",
        "committee": "党委",
        "branch": "党支部",
        "name_prompt": "请输入新",
        "domain_prompt": "属于哪个领域",
        "community": "城市社区",
        "created": "已创建",
        "invite": "🔗 邀请链接",
        "withdraw": "⛔ 作废邀请链接",
        "withdrawn_n": "已作废邀请链接 1 个",
        "joining": "您正在加入",
        "revoked": "已作废",
        "roster": "👥 名册",
        "make_secretary": "设为支部书记",
        "phone": "✏️ 手机号",
        "phone_prompt": "请输入新的手机号",
        "not_phone": "不是有效的手机号",
        "status": "状态 ▸",
        "on_leave": "请假",
        "saved": "已保存",
        "cancelled": "已取消",
        "denied": "没有权限",
        "up": "⬆ 上一级",
        "menu_roster": "👥 支部名册",
        "menu_invite": "🔗 邀请链接",
        "menu_orgs": "🏛 党组织管理",
        "menu_me": "👤 我的信息",
        "help": "我可以为您做这些",
        "other": "en",
        "other_button": "English",
        "other_help": "What I can do",
        "expired": "已失效",
        "not_on": "名册里没有我",
        "other_branch": "Branch:",
        "organiser": "设为组织委员",
        "remove": "免去此职务",
        "back": "◀ 名册",
    },
    "en": {
        "lang": "en",
        "oversee": "Organisations you oversee",
        "add": "➕ Add a unit",
        "committee": "committee",
        "branch": "branch",
        "name_prompt": "Type the name of the new",
        "domain_prompt": "Which domain",
        "community": "urban community",
        "created": "Created.",
        "invite": "🔗 Invite link",
        "withdraw": "⛔ Withdraw invite links",
        "withdrawn_n": "Invite links withdrawn: 1.",
        "joining": "You are joining",
        "revoked": "withdrawn",
        "roster": "👥 Roster",
        "make_secretary": "Make secretary",
        "phone": "✏️ Phone",
        "phone_prompt": "Type the new mobile number",
        "not_phone": "is not a mobile number",
        "status": "Status ▸",
        "on_leave": "on leave",
        "saved": "Saved.",
        "cancelled": "Cancelled. Nothing was saved.",
        "denied": "not allowed",
        "up": "⬆ Up",
        "menu_roster": "👥 Branch roster",
        "menu_invite": "🔗 Invite link",
        "menu_orgs": "🏛 Organisations",
        "menu_me": "👤 My details",
        "help": "What I can do",
        "other": "zh_Hans",
        "other_button": "中文",
        "other_help": "我可以为您做这些",
        "expired": "expired",
        "not_on": "I am not on the roster",
        "other_branch": "所在支部",
        "organiser": "Make organising member",
        "remove": "Remove from this role",
        "back": "◀ Roster",
    },
}
LANGS = pytest.mark.parametrize("lang", ["zh", "en"])


async def _city(session, now):
    """City committee (staff: STAFF_ID) → a town committee and ten branches; one roster."""
    city = await orgs.create_org(session, ROOT.actor, now, name="冷水江市委", kind="committee")
    session.add(Staff(org_id=city.id, telegram_id=STAFF_ID, name="组织部王科长", created_at=now))
    await orgs.create_org(
        session, ROOT.actor, now, name="锡矿山街道党工委", kind="committee", parent_id=city.id
    )
    for i in range(9):
        await orgs.create_org(
            session,
            ROOT.actor,
            now,
            name=f"第{i + 1:02d}社区党支部",
            kind="branch",
            parent_id=city.id,
            domain="community",
        )
    branch = await orgs.create_org(
        session,
        ROOT.actor,
        now,
        name="红旗村党支部",
        kind="branch",
        parent_id=city.id,
        domain="village",
    )
    li = await members.add_member(
        session, ROOT.actor, now, org_id=branch.id, name="李书记", category="rural_community"
    )
    await members.set_role(session, ROOT.actor, now, li, "secretary")
    await members.link_telegram(session, ROOT.actor, now, li, SECRETARY_ID)
    wang = await members.add_member(
        session,
        ROOT.actor,
        now,
        org_id=branch.id,
        name="王芳",
        category="rural_community",
        phone="13800000001",
    )
    await members.link_telegram(session, ROOT.actor, now, wang, MEMBER_ID)
    await members.add_member(
        session, ROOT.actor, now, org_id=branch.id, name="张伟", category="rural_community"
    )
    return {"city": city.id, "branch": branch.id, "li": li.id, "wang": wang.id}


async def _org_names(session, now, parent_id):
    rows = await session.execute(
        select(Organisation.name).where(Organisation.parent_id == parent_id)
    )
    return set(rows.scalars())


async def _audit(session, now, entity_id):
    rows = await session.execute(
        select(AuditLog.action, AuditLog.changes, AuditLog.actor_id)
        .where(AuditLog.entity == "member", AuditLog.entity_id == entity_id)
        .order_by(AuditLog.id)
    )
    return [tuple(r) for r in rows.all()]


async def _field(session, now, member_id, name):
    return getattr(await session.get(Member, member_id), name)


async def until(world, fn, *args, ok, timeout: float = 5.0):
    """Read `fn(*args)` until `ok(value)`: the bot replies just before its commit."""
    deadline = time.monotonic() + timeout
    while True:
        value = await world.seed(fn, *args)
        if ok(value) or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.02)


def labels(keyboard) -> set[str]:
    return {button["text"] for row in keyboard or [] for button in row}


@LANGS
async def test_staff_builds_the_tree_and_hands_out_invite_links(world, lang):
    t = T[lang]
    ids = await world.seed(_city)
    staff = await world.emu.create_user("王科长", user_id=STAFF_ID, language_code=t["lang"])

    await staff.send("/orgs")
    top = await staff.expect(t["oversee"])
    await staff.press("冷水江市委")
    first = await staff.expect(edited=True)
    assert "冷水江市委" in first.text
    assert ["1/2", "▶"] in first.buttons  # 11 children, 8 a page
    await staff.press("▶")
    second = await staff.expect(edited=True)
    assert ["◀", "2/2"] in second.buttons
    shown = {
        b.split(" ", 1)[1].rsplit(" · ", 1)[0]
        for row in first.buttons + second.buttons
        for b in row
        if " · " in b
    }
    assert shown == await world.seed(_org_names, ids["city"])

    # A branch, guided: kind → name → domain.
    await staff.press(t["add"])
    await staff.expect(t["committee"])
    await staff.press(t["branch"])
    await staff.expect(t["name_prompt"], edited=True)
    await staff.send("新华社区党支部")
    await staff.expect(t["domain_prompt"])
    await staff.press(t["community"])
    created = await staff.expect(t["created"])
    assert "新华社区党支部" in created.text and ORGS_WORDS[lang]["superior"] in created.text
    assert created.has_button(t["invite"])

    # A committee: no domain asked.
    await staff.press(t["up"])
    await staff.expect("冷水江市委", edited=True)
    await staff.press(t["add"])
    await staff.expect(t["committee"])
    await staff.press(t["committee"])
    await staff.expect(t["name_prompt"], edited=True)
    await staff.send("禾青镇党委")
    created = await staff.expect(t["created"])
    assert created.has_button(t["add"])
    names = await until(world, _org_names, ids["city"], ok=lambda n: len(n) == 13)
    assert {"新华社区党支部", "禾青镇党委"} <= names and len(names) == 13

    # The branch's invite link: t.me/<bot username>?start=<code>, and it works.
    await staff.send("/orgs")
    await staff.expect(t["oversee"])
    assert top.message_id != (await staff.last_message()).message_id
    await staff.press("冷水江市委")
    await staff.expect(edited=True)
    await staff.press("▶")
    await staff.expect(edited=True)
    await staff.press("红旗村党支部")
    await staff.expect("红旗村党支部", edited=True)
    await staff.press(t["invite"])
    link = await staff.expect("https://t.me/")
    username = (await world.emu.bot_info())["username"]
    found = re.search(r"https://t\.me/(\w+)\?start=([\w-]+)", link.text)
    assert found and found.group(1) == username
    code = found.group(2)
    assert len(code) >= 20 and "30" in link.text  # unguessable; expires (INVITE_TTL_DAYS)
    newcomer = await world.emu.create_user("New", language_code=t["lang"])
    await newcomer.send(f"/start {code}")
    joining = await newcomer.expect(t["joining"])
    assert "红旗村党支部" in joining.text

    # Withdrawn: the old link is refused.
    answer = await staff.press(t["withdraw"])
    assert answer.show_alert and t["withdrawn_n"] in answer.text
    late = await world.emu.create_user("Late", language_code=t["lang"])
    await late.send(f"/start {code}")
    await late.expect(t["revoked"])


@LANGS
async def test_staff_appoints_a_secretary_and_fixes_a_record(world, lang):
    t = T[lang]
    ids = await world.seed(_city)
    staff = await world.emu.create_user("王科长", user_id=STAFF_ID, language_code=t["lang"])
    await staff.send("/orgs")
    await staff.expect(t["oversee"])
    await staff.press("冷水江市委")
    await staff.expect(edited=True)
    await staff.press("▶")
    await staff.expect(edited=True)
    await staff.press("红旗村党支部")
    await staff.expect(edited=True)
    await staff.press(t["roster"])
    roster = await staff.expect(edited=True)
    assert roster.has_button("李书记 ★ ✓") and roster.has_button("王芳 ✓")

    await staff.press("王芳")
    card = await staff.expect("王芳", edited=True)
    assert "138****0001" in card.text
    answer = await staff.press(t["make_secretary"])
    assert t["saved"] in answer.text
    await staff.expect(edited=True)
    li_role = await until(world, _field, ids["li"], "role", ok=lambda r: r == "member")
    assert (await world.seed(_field, ids["wang"], "role"), li_role) == ("secretary", "member")

    # A malformed phone is refused and changes nothing; a good one is saved.
    await staff.press(t["phone"])
    await staff.expect(t["phone_prompt"])
    await staff.send("12345")
    refusal = await staff.expect(t["not_phone"])
    assert "12345" in refusal.text
    assert await world.seed(_field, ids["wang"], "phone") == "13800000001"
    await staff.send("139 0000 2222")
    saved = await staff.expect(t["saved"])
    assert "139****2222" in saved.text
    phone = await until(world, _field, ids["wang"], "phone", ok=lambda p: p == "13900002222")
    assert phone == "13900002222"

    await staff.press(t["status"], message=saved)
    await staff.expect(edited=True)
    answer = await staff.press(t["on_leave"])
    assert t["saved"] in answer.text
    card = await staff.expect(edited=True)
    assert t["on_leave"] in card.text
    status = await until(world, _field, ids["wang"], "status", ok=lambda v: v == "on_leave")
    assert status == "on_leave"

    # The audit log has who did it, and old and new values.
    wang_log = await world.seed(_audit, ids["wang"])
    by_staff = [(a, c) for a, c, who in wang_log if who == STAFF_ID]
    assert by_staff == [
        ("role", {"role": ["member", "secretary"]}),
        ("update", {"phone": ["13800000001", "13900002222"]}),
        ("update", {"status": ["active", "on_leave"]}),
    ]
    li_log = await world.seed(_audit, ids["li"])
    assert ("role", {"role": ["secretary", "member"]}, STAFF_ID) in li_log

    # An organising member appointed, then removed from the role.
    await staff.press(t["back"])
    await staff.expect(edited=True)
    await staff.press("李书记")
    await staff.expect("李书记", edited=True)
    await staff.press(t["organiser"])
    card = await staff.expect(edited=True)
    assert card.has_button(t["remove"])
    assert await until(world, _field, ids["li"], "role", ok=lambda r: r == "organiser") == (
        "organiser"
    )
    await staff.press(t["remove"])
    card = await staff.expect(edited=True)
    assert not card.has_button(t["remove"])
    assert await until(world, _field, ids["li"], "role", ok=lambda r: r == "member") == "member"
    li_log = await world.seed(_audit, ids["li"])
    assert [c for a, c, _ in li_log[-2:]] == [
        {"role": ["member", "organiser"]},
        {"role": ["organiser", "member"]},
    ]


@LANGS
async def test_cancel_while_adding_a_unit_creates_nothing(world, lang):
    t = T[lang]
    ids = await world.seed(_city)
    boss = await world.emu.create_user("Root", user_id=SUPERUSER, language_code=t["lang"])
    await boss.send("/orgs")
    await boss.expect(t["oversee"])
    await boss.press("冷水江市委")
    await boss.expect(edited=True)
    await boss.press(t["add"])
    await boss.expect(t["committee"])
    await boss.press(t["branch"])
    await boss.expect(t["name_prompt"], edited=True)
    await boss.send("/cancel")
    await boss.expect(t["cancelled"])
    await boss.send("幽灵党支部")  # no conversation any more: not taken as a name
    await boss.send("/help")
    await boss.expect(t["help"])

    # Again, cancelled at the last step; the domain buttons are dead afterwards.
    await boss.press(t["add"])
    await boss.expect(t["committee"])
    await boss.press(t["branch"])
    await boss.expect(t["name_prompt"], edited=True)
    await boss.send("幽灵党支部")
    await boss.expect(t["domain_prompt"])
    await boss.send("/cancel")
    await boss.expect(t["cancelled"])
    answer = await boss.press(t["community"])
    assert answer.show_alert and t["expired"] in answer.text
    names = await world.seed(_org_names, ids["city"])
    assert "幽灵党支部" not in names and len(names) == 11


@LANGS
async def test_menus_and_refusals_follow_roles(world, lang):
    t = T[lang]
    await world.seed(_city)
    member = await world.emu.create_user("王芳", user_id=MEMBER_ID, language_code=t["lang"])
    secretary = await world.emu.create_user("李书记", user_id=SECRETARY_ID, language_code=t["lang"])
    staff = await world.emu.create_user("王科长", user_id=STAFF_ID, language_code=t["lang"])

    await member.send("/orgs")
    await member.expect(t["denied"])
    await member.send("/roster")
    await member.expect(t["denied"])
    await member.send("/start")
    await member.expect("王芳")
    plain = labels(await member.reply_keyboard())
    assert t["menu_me"] in plain
    assert not plain & {t["menu_roster"], t["menu_invite"], t["menu_orgs"]}

    await secretary.send("/start")
    await secretary.expect("李书记")
    leader = labels(await secretary.reply_keyboard())
    assert {t["menu_roster"], t["menu_invite"], t["menu_me"]} <= leader
    assert t["menu_orgs"] not in leader
    await secretary.send(t["menu_roster"])  # the menu button works
    roster = await secretary.expect()
    assert roster.has_button("王芳 ✓")

    await member.send("/help")
    text = (await member.expect(t["help"])).text
    assert "/me" in text and "/roster" not in text and "/orgs" not in text
    await secretary.send("/help")
    text = (await secretary.expect(t["help"])).text
    assert "/roster" in text and "/invite" in text and "/orgs" not in text

    await staff.send("/help")
    assert "/orgs" in (await staff.expect(t["help"])).text
    overseer = labels(await staff.reply_keyboard())
    assert t["menu_orgs"] in overseer and t["menu_roster"] not in overseer


@LANGS
async def test_language_switch_is_remembered(world, lang):
    t = T[lang]
    ids = await world.seed(_city)
    member = await world.emu.create_user("王芳", user_id=MEMBER_ID, language_code=t["lang"])
    await member.send("/help")
    await member.expect(t["help"])
    await member.send("/language")
    await member.expect()
    await member.press(t["other_button"])
    await member.expect(edited=True)
    await member.send("/help")
    await member.expect(t["other_help"])
    # Remembered, although Telegram still reports the old language.
    assert await world.seed(_field, ids["wang"], "locale") == t["other"]
    await member.send("/me")
    me = await member.expect("红旗村党支部")
    assert t["other_branch"] in me.text  # /me too is in the chosen language
    await member.send("/help")
    await member.expect(t["other_help"])


async def test_commands_are_registered_in_chinese_and_english(world):
    bot = aiogram_bot(world.server.url, world.server.token)
    try:
        default = await bot.get_my_commands()
        zh = await bot.get_my_commands(language_code="zh")
        en = await bot.get_my_commands(language_code="en")
    finally:
        await bot.session.close()
    names = ["start", "month", "evaluation", "rating", "tasks", "mygrade", "me", "roster"]
    names += ["requests", "invite", "announce", "orgs", "stars", "dashboard", "export", "content"]
    names += ["broadcast", "notifications"]
    names += ["language", "help", "cancel"]
    for listing in (default, zh, en):
        assert [c.command for c in listing] == names
    assert [c.description for c in zh] == [c.description for c in default]
    by_name = {c.command: c.description for c in en}
    assert by_name["me"] == "Who I am, my branch and roles"
    assert by_name["cancel"] == "Leave the current step"
    zh_by_name = {c.command: c.description for c in zh}
    assert all(re.search(r"[\u4e00-\u9fff]", d) for d in zh_by_name.values())
    assert zh_by_name["me"] != by_name["me"]


@LANGS
async def test_names_and_input_with_html_characters_are_shown_as_typed(world, lang):
    """Replies are HTML: names and typed text with <, > or & must not break them."""
    t = T[lang]
    ids = await world.seed(_city)
    staff = await world.emu.create_user("王<科长>", user_id=STAFF_ID, language_code=t["lang"])
    await staff.send("/start")
    await staff.expect("王<科长>")
    await staff.send("/orgs")
    await staff.expect(t["oversee"])
    await staff.press("冷水江市委")
    await staff.expect(edited=True)
    await staff.press(t["add"])
    await staff.expect(t["committee"])
    await staff.press(t["branch"])
    await staff.expect(t["name_prompt"], edited=True)
    await staff.send("R&D <一>党支部")
    await staff.expect(t["domain_prompt"])
    await staff.press(t["community"])
    await staff.expect(t["created"])
    await staff.press(t["roster"])
    roster = await staff.expect("R&D <一>党支部", edited=True)
    assert "<一>" in roster.text

    await staff.send("/orgs")
    await staff.expect(t["oversee"])
    await staff.press("冷水江市委")
    await staff.expect(edited=True)
    await staff.press("▶")
    await staff.expect(edited=True)
    await staff.press("红旗村党支部")
    await staff.expect(edited=True)
    await staff.press(t["roster"])
    await staff.expect(edited=True)
    await staff.press("张伟")
    await staff.expect("张伟", edited=True)
    await staff.press(t["phone"])
    await staff.expect(t["phone_prompt"])
    await staff.send("<138>")
    refusal = await staff.expect(t["not_phone"])
    assert "<138>" in refusal.text
    assert await world.seed(_field, ids["li"], "phone") is None

    async def invite(session, now):
        return (await onboarding.create_invite(session, ROOT, now, ids["branch"])).code

    newcomer = await world.emu.create_user("New", language_code=t["lang"])
    await newcomer.send(f"/start {await world.seed(invite)}")
    await newcomer.expect(t["joining"])
    await newcomer.send("<b>张")
    found = await newcomer.expect("<b>张")
    assert found.has_button(t["not_on"])


TAKEN = {"zh": "已有名为", "en": "There is already an organisation called"}


@LANGS
async def test_a_taken_name_is_refused_at_the_name_step_and_can_be_typed_again(world, lang):
    """A new branch named like one already under the committee is refused when the name
    is typed (not after the domain, with no way back): the staff type another name and
    go on."""
    t = T[lang]
    await world.seed(_city)
    staff = await world.emu.create_user("王科长", user_id=STAFF_ID, language_code=t["lang"])
    await staff.send("/orgs")
    await staff.expect(t["oversee"])
    await staff.press("冷水江市委")
    await staff.expect(edited=True)
    await staff.press(t["add"])
    await staff.expect(t["committee"])
    await staff.press(t["branch"])
    await staff.expect(t["name_prompt"], edited=True)
    await staff.send("第01社区党支部")
    refused = await staff.expect(TAKEN[lang])
    assert "第01社区党支部" in refused.text and not refused.buttons
    await staff.send("第10社区党支部")
    await staff.expect(t["domain_prompt"])
    await staff.press(t["community"])
    created = await staff.expect(t["created"])
    assert "第10社区党支部" in created.text and ORGS_WORDS[lang]["superior"] in created.text


ORGS_WORDS = {
    "zh": {
        "top": "冷水江市委 · 党员 3 名",
        "top_unit": "上级党组织：无，本组织为最上级党组织",
        "child": "🚩 红旗村党支部 · 党员 3 名",
        "superior": "上级党组织：冷水江市委",
    },
    "en": {
        "top": "冷水江市委 · members: 3",
        "top_unit": "Superior: none, this is the top organisation",
        "child": "🚩 红旗村党支部 · members: 3",
        "superior": "Superior: 冷水江市委",
    },
}


@LANGS
async def test_orgs_says_what_it_counts_and_what_a_unit_is_under(world, lang):
    """/orgs: a unit's number is its members, in words; the top unit is said to be the
    top, not to belong to itself; a unit below names its superior."""
    t, words = T[lang], ORGS_WORDS[lang]
    await world.seed(_city)
    staff = await world.emu.create_user("王科长", user_id=STAFF_ID, language_code=t["lang"])
    await staff.send("/orgs")
    top = await staff.expect(t["oversee"])
    assert [words["top"]] in top.buttons
    await staff.press(words["top"])
    city = await staff.expect(edited=True)
    assert words["top_unit"] in city.text and "冷水江市委/" not in city.text
    await staff.press("▶")
    second = await staff.expect(edited=True)
    assert [words["child"]] in second.buttons
    await staff.press(words["child"])
    branch = await staff.expect(edited=True)
    assert words["superior"] in branch.text and "红旗村党支部" not in branch.text.split("\n", 1)[1]
