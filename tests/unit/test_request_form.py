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
    grade = shared(InlineKeyboardButton(text="合格", callback_data="bm:2"))
    with_shared_buttons = InlineKeyboardMarkup(
        inline_keyboard=[[grade, InlineKeyboardButton(text="✓ 优秀", callback_data="bm:1")], []]
    )
    methods = [
        SendMessage(chat_id=7, text="<b>hi</b>"),
        SendMessage(chat_id=7, text="x", reply_markup=shared(menu("👤 我的信息"))),
        SendMessage(chat_id=7, text="x", reply_markup=menu("👤 My details")),
        SendMessage(chat_id=-100, text="x", reply_markup=ReplyKeyboardRemove()),
        SendMessage(chat_id=7, text="", disable_notification=False, parse_mode=None),
        EditMessageText(chat_id=7, message_id=3, text="y", reply_markup=inline),
        EditMessageText(chat_id=7, message_id=3, text="y", reply_markup=every_kind),
        EditMessageText(chat_id=7, message_id=3, text="y", reply_markup=with_shared_buttons),
        EditMessageText(
            chat_id=7, message_id=3, text="y", reply_markup=InlineKeyboardMarkup(inline_keyboard=[])
        ),
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


async def test_a_request_without_files_is_sent_as_json_of_the_form_fields(unused_tcp_port):
    """What the Bot API receives: a JSON object with exactly the form's fields (the Bot
    API reads it as it reads a form); a file still goes as a multipart form."""
    import json

    from aiogram.client.telegram import TelegramAPIServer
    from aiohttp import web

    seen: list[tuple[str, dict]] = []

    async def endpoint(request: web.Request) -> web.Response:
        if request.content_type == "application/json":
            seen.append((request.content_type, json.loads(await request.read())))
        else:
            seen.append((request.content_type, {}))
        message = {"message_id": 3, "date": 0, "chat": {"id": 7, "type": "private"}, "text": "y"}
        method = request.match_info["method"]
        return web.json_response(
            {"ok": True, "result": True if method == "answerCallbackQuery" else message}
        )

    app = web.Application()
    app.router.add_post("/bot{token}/{method}", endpoint)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    session = TelegramSession(
        api=TelegramAPIServer.from_base(f"http://127.0.0.1:{unused_tcp_port}")
    )
    bot = Bot("42:TEST", session=session, default=DefaultBotProperties(parse_mode="HTML"))
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="✓ 优秀", callback_data="bm:1")]]
    )
    answer = AnswerCallbackQuery(callback_query_id="5", text="已取消标记")
    edit = EditMessageText(chat_id=7, message_id=3, text="<b>无记名</b>", reply_markup=markup)
    try:
        assert await bot(answer) is True
        assert await bot(edit) is True  # an edited message is not read back
        await bot(SendDocument(chat_id=7, document=BufferedInputFile(b"a,b", filename="r.csv")))
    finally:
        await bot.session.close()
        await runner.cleanup()
    aiograms = AiohttpSession()
    assert seen[0] == ("application/json", dict(fields(aiograms.build_form_data(bot, answer))))
    # The keyboard arrives as the JSON object aiogram's form field holds as a string.
    form = dict(fields(aiograms.build_form_data(bot, edit)))
    form["reply_markup"] = json.loads(form["reply_markup"])
    assert seen[1] == ("application/json", form)
    assert seen[2][0] == "multipart/form-data"


def test_a_json_body_holds_the_keyboard_as_an_object():
    import json

    from bot.delivery import json_body

    keyboard = '{"inline_keyboard": [[{"text": "\\"优秀\\"", "callback_data": "bm:1"}]]}'
    for form in (
        {"reply_markup": keyboard},
        {"chat_id": "7", "text": "{}", "reply_markup": keyboard},
    ):
        sent = json.loads(json_body(form))
        assert sent == {**form, "reply_markup": json.loads(keyboard)}
    assert json.loads(json_body({"text": "无"})) == {"text": "无"}
