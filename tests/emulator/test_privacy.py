"""Group privacy mode: in groups the bot sees commands, mentions and replies to it."""

from __future__ import annotations

from aiogram import Bot

from bot.emulator.client import EmulatorClient


async def texts_seen(bot: Bot) -> list[str]:
    updates = await bot.get_updates()
    if updates:
        await bot.get_updates(offset=updates[-1].update_id + 1)
    return [u.message.text or "" for u in updates if u.message]


async def test_privacy_mode_filters_group_messages(bot: Bot, emulator: EmulatorClient) -> None:
    me = await bot.get_me()
    user = await emulator.create_user("Member")
    group = await emulator.create_group("支部", members=[user])
    for text in (
        "just chatting",
        "/status",
        f"/status@{me.username}",
        "/status@some_other_bot",
        f"hey @{me.username} help",
        "email me@example.org",
    ):
        await user.send_in(group, text)
    assert await texts_seen(bot) == [
        "/status",
        f"/status@{me.username}",
        f"hey @{me.username} help",
    ]

    from_bot = await bot.send_message(group.id, "投票开始")
    await user.send_in(group, "a reply to the bot", reply_to=from_bot.message_id)
    chat_message = await user.send_in(group, "hello all")
    await user.send_in(group, "a reply to a person", reply_to=chat_message.message_id)
    assert await texts_seen(bot) == ["a reply to the bot"]


async def test_group_reply_is_visible_in_the_group(bot: Bot, emulator: EmulatorClient) -> None:
    user = await emulator.create_user("Member")
    group = await emulator.create_group("支部", members=[user])
    await user.send_in(group, "/status")
    [update] = await bot.get_updates()
    assert update.message and update.message.chat.id == group.id
    await bot.send_message(group.id, "本月进度")
    assert (await group.expect(contains="本月")).chat_id == group.id
    await user.expect_silence(0.05)  # nothing went to the private chat


async def test_privacy_off_and_admin_bots_see_everything(bot: Bot, emulator: EmulatorClient):
    user = await emulator.create_user("Member")
    admin_group = await emulator.create_group("A", members=[user], bot_status="administrator")
    await user.send_in(admin_group, "plain talk")
    assert await texts_seen(bot) == ["plain talk"]
    await emulator.configure_bot(privacy_mode=False)
    group = await emulator.create_group("B", members=[user])
    await user.send_in(group, "more talk")
    assert await texts_seen(bot) == ["more talk"]


async def test_bot_removed_from_group_cannot_write(bot: Bot, emulator: EmulatorClient) -> None:
    from aiogram.exceptions import TelegramForbiddenError

    group = await emulator.create_group("Left", bot_status="left")
    try:
        await bot.send_message(group.id, "hi")
    except TelegramForbiddenError as error:
        assert "bot is not a member" in error.message
    else:
        raise AssertionError("expected 403")


async def test_join_and_leave_are_service_messages(bot: Bot, emulator: EmulatorClient) -> None:
    user = await emulator.create_user("Newcomer")
    group = await emulator.create_group("支部")
    joined = await group.join(user)
    assert joined is not None and joined.raw["new_chat_members"][0]["id"] == user.id
    assert (await bot.get_chat_member(group.id, user.id)).status == "member"
    left = await group.leave(user)
    assert left is not None and left.raw["left_chat_member"]["id"] == user.id
    updates = await bot.get_updates()
    service = [u.message for u in updates if u.message]
    assert service[0].new_chat_members and service[1].left_chat_member  # despite privacy mode
    assert await group.set_status(user, "left") is None  # no change, no service message
