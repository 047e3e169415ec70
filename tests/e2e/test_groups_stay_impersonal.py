"""Personal data stays out of groups (issue 8, item 14; and item 15's `/announce@bot`).

In the branch group, /me, /month, /stars, /start, /help and the rest are answered with
a button that opens the private chat — no record, no checklist, no stars, and no reply
keyboard on everyone's screen. /linkgroup and the RSVP buttons still work there.
"""

from __future__ import annotations

import pytest

from tests.e2e.test_month import SECRETARY, STAFF
from tests.e2e.test_month_group_stars import M1, _with_members
from tests.e2e.test_month_group_stars import T as TG

PRIVATE = {"zh": "请在与我的私聊中查看", "en": "I answer that in our private chat"}
ANNOUNCE = {"zh": "请在与我的私聊中发布会议通知", "en": "Announce meetings from our private chat"}
OPEN = {"zh": "💬 打开私聊", "en": "💬 Open the private chat"}
ONLY_PRIVATE = {"zh": "只能在与我的私聊中使用", "en": "works only in our private chat"}
LEAKS = ("红旗村", "李书记", "刘0", "★", "☆", "1380", "/month", "/roster")


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_group_commands_open_the_private_chat_instead(world, lang):
    tg = TG[lang]
    await world.seed(_with_members)
    emu = world.emu
    sec = await emu.create_user("李书记", user_id=SECRETARY, language_code=tg["lang"])
    member = await emu.create_user("刘00", user_id=M1, language_code=tg["lang"])
    staff = await emu.create_user("组织部", user_id=STAFF, language_code=tg["lang"])
    group = await emu.create_group("支部群", members=[member, staff], admins=[sec])
    await sec.send_in(group, "/linkgroup")
    await group.expect(tg["linked"])
    username = (await emu.bot_info())["username"]

    for who, command in (
        (member, "/me"),
        (member, "/month"),
        (member, "/start"),
        (member, "/help"),
        (sec, "/roster"),
        (sec, "/invite"),
        (staff, "/stars"),
        (staff, "/orgs"),
        (member, f"/me@{username}"),
    ):
        await who.send_in(group, command)
        reply = await group.expect()
        assert PRIVATE[lang] in reply.text, (command, reply.text)
        assert reply.buttons == [[OPEN[lang]]]
        assert reply.inline_keyboard[0][0]["url"] == f"https://t.me/{username}"
        assert not any(leak in reply.text for leak in LEAKS), (command, reply.text)
    await sec.send_in(group, f"/announce@{username}")
    assert ANNOUNCE[lang] in (await group.expect()).text
    await member.send_in(group, "/me@some_other_bot")
    await group.expect_silence()
    assert await group.reply_keyboard() is None

    last = await group.last_message()
    answer = await member.press_data("mo:0:0", last.message_id, chat=group, force=True)
    assert answer.show_alert and ONLY_PRIVATE[lang] in answer.text


ADDRESSED = {
    "zh": "在本群我只发布会议通知",
    "en": "In this group I only post meeting notices",
}


@pytest.mark.parametrize("bot_status", ["member", "administrator"])
@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_reply_or_mention_that_is_not_a_command_is_redirected(world, lang, bot_status):
    """Never silent to someone who speaks to the bot; never chatty in the group's own talk
    (which an administrator bot sees too)."""
    tg = TG[lang]
    await world.seed(_with_members)
    emu = world.emu
    sec = await emu.create_user("李书记", user_id=SECRETARY, language_code=tg["lang"])
    member = await emu.create_user("刘00", user_id=M1, language_code=tg["lang"])
    group = await emu.create_group("支部群", members=[member], admins=[sec], bot_status=bot_status)
    await sec.send_in(group, "/linkgroup")
    linked = await group.expect(tg["linked"])
    username = (await emu.bot_info())["username"]

    for text, reply_to in (
        ("我这个月的积分是多少？", linked.message_id),  # a reply to the bot
        (f"@{username} 本月还有什么任务", None),  # a mention
        (f"请问 @{username.upper()} 我的信息", None),  # a mention in other letters
    ):
        await member.send_in(group, text, reply_to=reply_to)
        reply = await group.expect()
        assert ADDRESSED[lang] in reply.text, (text, reply.text)
        assert reply.buttons == [[OPEN[lang]]]
        assert not any(leak in reply.text for leak in LEAKS), (text, reply.text)
    await member.send_in(group, "大家好，明天几点开会？")  # the group's own talk
    await member.send_in(group, "@someone_else 你好")
    await group.expect_silence()
    assert await group.reply_keyboard() is None
