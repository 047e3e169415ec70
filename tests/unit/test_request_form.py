"""The bot's session writes the same request form as aiogram's, with less work."""

from __future__ import annotations

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendDocument, SendMessage
from aiogram.types import (
    BufferedInputFile,
    CopyTextButton,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    WebAppInfo,
)

from bot.delivery import TelegramSession, shared


def fields(form) -> list[tuple[str, object]]:
    """Name and value of each field; a file's content by its type (a stream)."""
    return sorted(
        (options["name"], value if isinstance(value, str) else type(value).__name__)
        for options, _headers, value in form._fields
    )


def menu(label: str) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=label), KeyboardButton(text="❓ 帮助")]],
        resize_keyboard=True,
        is_persistent=True,
    )


def test_forms_are_aiogram_forms(monkeypatch):
    # A file is attached under a random name: the same one for both sessions here.
    monkeypatch.setattr("aiogram.client.session.base.secrets.token_urlsafe", lambda _n: "f")
    bot = Bot("42:TEST", default=DefaultBotProperties(parse_mode="HTML"))
    ours, aiograms = TelegramSession(), AiohttpSession()
    inline = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="🙋", callback_data="rv:1:1")]]
    )
    every_kind = InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text="张伟", callback_data="no")],
            [
                InlineKeyboardButton(text=f"✓ {g}" if g == "优秀" else g, callback_data=f"bm:{i}")
                for i, g in enumerate(("优秀", "合格", "基本合格", "不合格"))
            ],
            [
                InlineKeyboardButton(text="💬", url="https://t.me/branchbot_demo_bot"),
                InlineKeyboardButton(text="找", switch_inline_query_current_chat=""),
                InlineKeyboardButton(text="📋", copy_text=CopyTextButton(text="邀请")),
                InlineKeyboardButton(text="🌐", web_app=WebAppInfo(url="https://example.org")),
            ],
        ]
    )
    methods = [
        SendMessage(chat_id=7, text="<b>hi</b>"),
        SendMessage(chat_id=7, text="x", reply_markup=shared(menu("👤 我的信息"))),
        SendMessage(chat_id=7, text="x", reply_markup=menu("👤 My details")),
        SendMessage(chat_id=-100, text="x", reply_markup=ReplyKeyboardRemove()),
        SendMessage(chat_id=7, text="", disable_notification=False, parse_mode=None),
        EditMessageText(chat_id=7, message_id=3, text="y", reply_markup=inline),
        EditMessageText(chat_id=7, message_id=3, text="y", reply_markup=every_kind),
        AnswerCallbackQuery(callback_query_id="5", text="Thanks", show_alert=False),
        AnswerCallbackQuery(callback_query_id="5"),
        SendDocument(chat_id=7, document=BufferedInputFile(b"a,b", filename="r.csv")),
    ]
    for method in methods:
        for _ in range(2):  # a shared markup's second request uses the JSON written first
            got = fields(ours.build_form_data(bot, method))
            assert got == fields(aiograms.build_form_data(bot, method)), method


def test_a_shared_markup_is_forgotten_with_it():
    import gc

    from bot import delivery

    markup = shared(menu("x"))
    key = id(markup)
    assert key in delivery._shared
    del markup
    gc.collect()
    assert key not in delivery._shared
