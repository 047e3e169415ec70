"""The real aiogram Bot against the emulator, method by method."""

from __future__ import annotations

import asyncio

from aiogram import Bot
from aiogram.enums import ChatAction, ParseMode
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.emulator.client import EmulatorClient

from .images import PNG_2X3


def buttons(markup: InlineKeyboardMarkup | None) -> list[list[tuple[str, str | None]]]:
    rows = markup.inline_keyboard if markup else []
    return [[(b.text, b.callback_data) for b in row] for row in rows]


def keyboard(*labels: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=f"cb:{t}") for t in labels]]
    )


async def test_get_me(bot: Bot, emulator: EmulatorClient) -> None:
    me = await bot.get_me()
    info = await emulator.bot_info()
    assert me.id == bot.id == info["id"]
    assert me.is_bot and me.username == info["username"]
    assert me.can_read_all_group_messages is False  # privacy mode is on


async def test_send_message_returns_a_complete_message(bot: Bot, emulator: EmulatorClient) -> None:
    user = await emulator.create_user("张三", language_code="zh-hans")
    sent = await bot.send_message(
        user.id, "<b>你好</b> 世界", parse_mode=ParseMode.HTML, reply_markup=keyboard("加入")
    )
    assert sent.message_id == 1
    assert sent.chat.id == user.id and sent.chat.type == "private"
    assert sent.from_user is not None and sent.from_user.id == bot.id
    assert sent.text == "你好 世界"
    assert sent.date.year >= 2024
    assert [(e.type, e.offset, e.length) for e in sent.entities or []] == [("bold", 0, 2)]
    assert buttons(sent.reply_markup) == [[("加入", "cb:加入")]]
    second = await bot.send_message(user.id, "two")
    assert second.message_id == 2
    seen = await user.expect(contains="你好")
    assert seen.message_id == 1 and seen.buttons == [["加入"]]


async def test_entities_are_counted_in_utf16(bot: Bot, emulator: EmulatorClient) -> None:
    user = await emulator.create_user("Emoji")
    sent = await bot.send_message(user.id, "👍 <i>ok</i>", parse_mode="HTML")
    assert sent.entities is not None
    assert (sent.entities[0].offset, sent.entities[0].length) == (3, 2)


async def test_edit_text_and_markup(bot: Bot, emulator: EmulatorClient) -> None:
    user = await emulator.create_user("Li")
    sent = await bot.send_message(user.id, "draft", reply_markup=keyboard("A", "B"))
    edited = await bot.edit_message_text(
        text="final", chat_id=user.id, message_id=sent.message_id, reply_markup=keyboard("C")
    )
    assert edited.text == "final" and edited.edit_date is not None
    assert buttons(edited.reply_markup) == [[("C", "cb:C")]]
    bare = await bot.edit_message_reply_markup(chat_id=user.id, message_id=sent.message_id)
    assert bare.reply_markup is None
    [now] = await user.messages()
    assert now.text == "final" and now.buttons == []
    assert (await user.expect(edited=True)).text == "final"


async def test_delete_message(bot: Bot, emulator: EmulatorClient) -> None:
    user = await emulator.create_user("Wang")
    first = await bot.send_message(user.id, "first")
    await bot.send_message(user.id, "second")
    assert await bot.delete_message(user.id, first.message_id) is True
    assert [m.text for m in await user.messages()] == ["second"]


async def test_answer_callback_query(bot: Bot, emulator: EmulatorClient) -> None:
    user = await emulator.create_user("Zhao")
    await bot.send_message(user.id, "pick", reply_markup=keyboard("Yes"))
    answer_task = asyncio.create_task(user.press("Yes"))
    [update] = await bot.get_updates(timeout=3)
    query = update.callback_query
    assert query is not None and query.data == "cb:Yes"
    assert query.from_user.id == user.id and query.message is not None
    assert query.chat_instance
    assert await bot.answer_callback_query(query.id, text="收到", show_alert=True)
    answer = await answer_task
    assert answer.answered and answer.text == "收到" and answer.show_alert


async def test_get_updates_offset_limit_and_allowed_updates(
    bot: Bot, emulator: EmulatorClient
) -> None:
    user = await emulator.create_user("Sun")
    for text in ("one", "two", "three"):
        await user.send(text)
    first = await bot.get_updates(limit=2)
    assert [u.message.text for u in first if u.message] == ["one", "two"]
    rest = await bot.get_updates(offset=first[-1].update_id + 1)
    assert [u.message.text for u in rest if u.message] == ["three"]
    assert await bot.get_updates(offset=rest[-1].update_id + 1) == []
    # only callback queries from now on: new messages are dropped when created
    await bot.get_updates(allowed_updates=["callback_query"])
    await user.send("ignored")
    assert await bot.get_updates() == []


async def test_get_updates_long_polls_until_an_update(bot: Bot, emulator: EmulatorClient) -> None:
    user = await emulator.create_user("Zhou")
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0)  # let the poll reach the emulator before the user writes
    await user.send("/start")
    [update] = await poll
    assert update.message is not None and update.message.text == "/start"


async def test_start_command_has_bot_command_entity(bot: Bot, emulator: EmulatorClient) -> None:
    user = await emulator.create_user("Deep", username="deep_link")
    await user.send("/start abc")
    [update] = await bot.get_updates()
    message = update.message
    assert message is not None and message.text == "/start abc"
    assert [(e.type, e.offset, e.length) for e in message.entities or []] == [("bot_command", 0, 6)]
    assert message.from_user is not None and message.from_user.username == "deep_link"


async def test_send_photo_document_get_file_and_download(
    bot: Bot, emulator: EmulatorClient
) -> None:
    user = await emulator.create_user("Files")
    photo = await bot.send_photo(
        user.id, BufferedInputFile(PNG_2X3, "chart.png"), caption="<b>图</b>", parse_mode="HTML"
    )
    assert photo.photo is not None and (photo.photo[-1].width, photo.photo[-1].height) == (2, 3)
    assert photo.caption == "图" and photo.caption_entities
    again = await bot.send_photo(user.id, photo.photo[-1].file_id)
    assert again.photo is not None and again.photo[-1].file_id == photo.photo[-1].file_id
    document = await bot.send_document(
        user.id, BufferedInputFile(b"a,b\n1,2\n", "roster.csv"), caption="名单"
    )
    assert document.document is not None and document.document.file_name == "roster.csv"
    file = await bot.get_file(document.document.file_id)
    assert file.file_path and file.file_size == 8
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None and downloaded.read() == b"a,b\n1,2\n"


async def test_user_photo_reaches_the_bot_and_downloads(bot: Bot, emulator: EmulatorClient) -> None:
    user = await emulator.create_user("Uploader")
    await user.send_photo(PNG_2X3, caption="会议")
    [update] = await bot.get_updates()
    message = update.message
    assert message is not None and message.photo and message.caption == "会议"
    data = await bot.download(message.photo[-1].file_id)
    assert data is not None and data.read() == PNG_2X3


async def test_send_chat_action(bot: Bot, emulator: EmulatorClient) -> None:
    user = await emulator.create_user("Typing")
    assert await bot.send_chat_action(user.id, ChatAction.TYPING) is True
    [event] = await emulator.events(user.id, after=0, types=["chat_action"])
    assert event["action"] == "typing"


def pairs(commands: list[BotCommand]) -> list[tuple[str, str]]:
    return [(c.command, c.description) for c in commands]


async def test_my_commands_per_scope_and_language(bot: Bot, emulator: EmulatorClient) -> None:
    user = await emulator.create_user("Cmd")
    commands = [BotCommand(command="start", description="开始")]
    assert await bot.set_my_commands(commands, language_code="zh")
    assert pairs(await bot.get_my_commands(language_code="zh")) == [("start", "开始")]
    assert await bot.get_my_commands() == []
    scoped = [BotCommand(command="admin", description="Admin tools")]
    await bot.set_my_commands(scoped, scope=BotCommandScopeChat(chat_id=user.id))
    in_chat = await bot.get_my_commands(scope=BotCommandScopeChat(chat_id=user.id))
    assert pairs(in_chat) == [("admin", "Admin tools")]
    assert await bot.delete_my_commands(language_code="zh")
    assert await bot.get_my_commands(language_code="zh") == []


async def test_get_chat_and_chat_member(bot: Bot, emulator: EmulatorClient) -> None:
    secretary = await emulator.create_user("书记", last_name="王", username="wang")
    member = await emulator.create_user("成员")
    outsider = await emulator.create_user("外人")
    group = await emulator.create_group("第一支部", members=[member], creator=secretary)
    chat = await bot.get_chat(group.id)
    assert chat.title == "第一支部" and chat.type == "supergroup"
    private = await bot.get_chat(secretary.id)
    assert private.type == "private" and private.username == "wang"
    assert (await bot.get_chat_member(group.id, secretary.id)).status == "creator"
    assert (await bot.get_chat_member(group.id, member.id)).status == "member"
    assert (await bot.get_chat_member(group.id, outsider.id)).status == "left"
    assert (await bot.get_chat_member(group.id, bot.id)).status == "member"
    admins = await bot.get_chat_administrators(group.id)
    assert [a.user.id for a in admins] == [secretary.id]
    assert await bot.get_chat_member_count(group.id) == 3


async def test_reply_keyboard_with_request_contact(bot: Bot, emulator: EmulatorClient) -> None:
    user = await emulator.create_user("Phone", phone="+8613800000000")
    markup = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text="分享手机号", request_contact=True)]],
        resize_keyboard=True,
    )
    sent = await bot.send_message(user.id, "请分享", reply_markup=markup)
    assert sent.reply_markup is None  # reply keyboards are not part of the message
    [[button]] = await user.reply_keyboard() or [[None]]
    assert button == {"text": "分享手机号", "request_contact": True}
    await user.share_contact()
    [update] = await bot.get_updates()
    contact = update.message.contact if update.message else None
    assert contact is not None and contact.phone_number == "+8613800000000"
    assert contact.user_id == user.id
    await bot.send_message(user.id, "谢谢", reply_markup=ReplyKeyboardRemove())
    assert await user.reply_keyboard() is None


async def test_reply_to_message(bot: Bot, emulator: EmulatorClient) -> None:
    user = await emulator.create_user("Reply")
    asked = await user.send("question?")
    answer = await bot.send_message(user.id, "answer", reply_to_message_id=asked.message_id)
    assert answer.reply_to_message is not None
    assert answer.reply_to_message.text == "question?"
