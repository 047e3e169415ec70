"""An independent client proves fidelity: python-telegram-bot 22 against the emulator.

Nothing here is special-cased for PTB, and the emulator has no PTB-specific code: if PTB
parses our objects and its requests are understood, the emulator speaks the protocol.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.emulator import EmulatorServer
from bot.emulator.client import EmulatorClient

from .images import png


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None
    payload = " ".join(context.args or [])
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("确认", callback_data="confirm")]])
    await update.message.reply_html(f"<b>你好</b> {payload}", reply_markup=keyboard)


async def confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("已确认")
    await query.edit_message_text("已确认 ✅")


async def photo_size(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None and update.message.photo
    file = await update.message.photo[-1].get_file()
    data = await file.download_as_bytearray()
    await update.message.reply_text(f"收到 {len(data)} 字节")


@pytest.fixture
async def ptb_app(emulator_server: EmulatorServer) -> AsyncIterator[Application]:
    app = (
        ApplicationBuilder()
        .token(emulator_server.token)
        .base_url(f"{emulator_server.url}/bot")
        .base_file_url(f"{emulator_server.url}/file/bot")
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(confirm, pattern="^confirm$"))
    app.add_handler(MessageHandler(filters.PHOTO, photo_size))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=2)
    yield app
    await app.updater.stop()
    await app.stop()
    await app.shutdown()


async def test_command_keyboard_press_answer_and_edit(
    ptb_app: Application, emulator: EmulatorClient
) -> None:
    user = await emulator.create_user("PTB 用户", language_code="zh-hans")
    await user.send("/start abc")
    hello = await user.expect(contains="你好")
    assert hello.text == "你好 abc" and hello.entities[0]["type"] == "bold"
    assert hello.buttons == [["确认"]]

    answer = await user.press("确认")
    assert answer.answered and answer.text == "已确认"
    edited = await user.expect(edited=True)
    assert edited.message_id == hello.message_id and edited.text == "已确认 ✅"
    [_, now] = await user.messages()
    assert now.text == "已确认 ✅" and now.buttons == []


async def test_ptb_downloads_a_user_photo(ptb_app: Application, emulator: EmulatorClient):
    user = await emulator.create_user("Photographer")
    image = png(5, 4)
    await user.send_photo(image)
    reply = await user.expect(contains="收到")
    assert reply.text == f"收到 {len(image)} 字节"
