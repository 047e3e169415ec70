"""Telegram's errors where bots trip, and bad input, as aiogram sees them."""

from __future__ import annotations

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramUnauthorizedError,
)
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.emulator import EmulatorServer
from bot.emulator.client import EmulatorClient
from bot.emulator.testing import aiogram_bot


def one_button(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="x", callback_data=data)]]
    )


async def raw_call(server: EmulatorServer, method: str, **kwargs) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as http:
        url = f"{server.url}/bot{server.token}/{method}"
        async with http.post(url, **kwargs) as resp:
            return resp.status, await resp.json()


async def test_callback_data_over_64_bytes(bot: Bot, emulator: EmulatorClient) -> None:
    user = await emulator.create_user("U")
    await bot.send_message(user.id, "ok", reply_markup=one_button("x" * 64))
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(user.id, "too long", reply_markup=one_button("数" * 22))


async def test_text_over_4096_characters(bot: Bot, emulator: EmulatorClient) -> None:
    user = await emulator.create_user("U")
    await bot.send_message(user.id, "字" * 4096)
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(user.id, "字" * 4097)
    # the limit applies to the text after HTML parsing
    await bot.send_message(user.id, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")


@pytest.mark.parametrize(
    ("html", "problem"),
    [
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", "Unmatched end tag"),
        ("<script>x</script>", 'Unsupported start tag "script"'),
        ("1 < 2", "byte offset 2"),
        ('<span class="other">x</span>', "tg-spoiler"),
    ],
)
async def test_malformed_html(bot: Bot, emulator: EmulatorClient, html: str, problem: str) -> None:
    user = await emulator.create_user("U")
    with pytest.raises(TelegramBadRequest, match="can't parse entities") as error:
        await bot.send_message(user.id, html, parse_mode="HTML")
    assert problem in error.value.message


async def test_html_tags_telegram_allows(bot: Bot, emulator: EmulatorClient) -> None:
    user = await emulator.create_user("U")
    html = (
        "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s>"
        '<strike>k</strike><del>d</del><a href="https://example.org">a</a><code>c</code>'
        '<pre><code class="language-python">p</code></pre><span class="tg-spoiler">h</span>'
        "<tg-spoiler>t</tg-spoiler><blockquote>q</blockquote>"
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji> &lt;&amp;&gt; &quot;'
    )
    sent = await bot.send_message(user.id, html, parse_mode="HTML")
    assert sent.text == 'bsieunskdacphtq👍 <&> "'
    kinds = [e.type for e in sent.entities or []]
    assert kinds == [
        "bold",
        "bold",
        "italic",
        "italic",
        "underline",
        "underline",
        "strikethrough",
        "strikethrough",
        "strikethrough",
        "text_link",
        "code",
        "pre",
        "spoiler",
        "spoiler",
        "blockquote",
        "custom_emoji",
    ]
    pre = next(e for e in sent.entities or [] if e.type == "pre")
    assert pre.language == "python"


async def test_editing_to_identical_content(bot: Bot, emulator: EmulatorClient) -> None:
    user = await emulator.create_user("U")
    sent = await bot.send_message(user.id, "same", reply_markup=one_button("a"))
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            text="same",
            chat_id=user.id,
            message_id=sent.message_id,
            reply_markup=one_button("a"),
        )
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(
            chat_id=user.id, message_id=sent.message_id, reply_markup=one_button("a")
        )


async def test_callback_answered_twice_or_too_late(
    bot: Bot, emulator: EmulatorClient, emulator_server: EmulatorServer
) -> None:
    clock = [1000.0]
    emulator_server.world.config.clock = lambda: clock[0]
    user = await emulator.create_user("U")
    await bot.send_message(user.id, "pick", reply_markup=one_button("a"))
    await user.press("x", wait_answer=False)
    await user.press("x", wait_answer=False)
    first, second = await bot.get_updates()
    assert first.callback_query and second.callback_query
    await bot.answer_callback_query(first.callback_query.id)
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(first.callback_query.id)
    clock[0] += emulator_server.world.config.callback_timeout + 0.1
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(second.callback_query.id)
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query("12345")


async def test_unknown_method_is_404_in_telegrams_shape(
    emulator_server: EmulatorServer,
) -> None:
    status, body = await raw_call(emulator_server, "sendTelepathy")
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})


async def test_method_names_are_case_insensitive(emulator_server: EmulatorServer) -> None:
    status, body = await raw_call(emulator_server, "GETME")
    assert status == 200 and body["result"]["is_bot"] is True


async def test_wrong_token_is_401(emulator_server: EmulatorServer) -> None:
    wrong = aiogram_bot(emulator_server.url, "123:not-the-token")
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await wrong.get_me()
    finally:
        await wrong.session.close()
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{emulator_server.url}/bot1:x/getMe") as resp:
            body = await resp.json()
    assert body == {"ok": False, "error_code": 401, "description": "Unauthorized"}


async def test_unknown_method_through_aiogram(bot: Bot, emulator_server: EmulatorServer) -> None:
    from aiogram.methods import GetMe

    class Unknown(GetMe):
        __api_method__ = "getTheMoon"

    with pytest.raises(TelegramNotFound):
        await bot(Unknown())


@pytest.mark.parametrize(
    ("kwargs", "description"),
    [
        (
            {"data": b"{not json", "headers": {"Content-Type": "application/json"}},
            "can't parse JSON",
        ),
        ({"json": {"text": "no chat"}}, "chat_id is empty"),
        ({"json": {"chat_id": "abc", "text": "x"}}, "must be of type Integer"),
        ({"json": {"chat_id": 1.5, "text": "x"}}, "must be of type Integer"),
        ({"json": {"chat_id": 7000000001}}, "message text is empty"),
        (
            {"json": {"chat_id": 7000000001, "text": "x", "reply_markup": "{bad"}},
            "can't parse reply_markup JSON object",
        ),
        (
            {"json": {"chat_id": 7000000001, "text": "x", "reply_markup": {"what": 1}}},
            "can't parse reply keyboard markup JSON object",
        ),
        ({"json": [1, 2]}, "must be an object"),
        ({"json": {"chat_id": 42, "text": "x"}}, "chat not found"),
    ],
)
async def test_bad_input_is_a_telegram_style_400(
    emulator_server: EmulatorServer, emulator: EmulatorClient, kwargs: dict, description: str
) -> None:
    await emulator.create_user("U", user_id=7000000001)
    status, body = await raw_call(emulator_server, "sendMessage", **kwargs)
    assert status == 400 and body["ok"] is False and body["error_code"] == 400
    assert body["description"].startswith("Bad Request: ")
    assert description in body["description"]


async def test_form_encoded_parameters(emulator_server: EmulatorServer, emulator: EmulatorClient):
    user = await emulator.create_user("Form")
    markup = '{"inline_keyboard":[[{"text":"a","callback_data":"b"}]]}'
    data = {"chat_id": str(user.id), "text": "hi", "reply_markup": markup}
    status, body = await raw_call(emulator_server, "sendMessage", data=data)
    assert status == 200 and body["result"]["reply_markup"]["inline_keyboard"][0][0]["text"] == "a"


async def test_blocked_user_is_403(bot: Bot, emulator: EmulatorClient) -> None:
    user = await emulator.create_user("Blocker")
    await user.block_bot()
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(user.id, "hello?")
    await user.send("/start")  # writing again unblocks
    await bot.send_message(user.id, "welcome back")


async def test_user_who_never_started_the_bot_is_403(bot: Bot, emulator: EmulatorClient) -> None:
    user = await emulator.create_user("Stranger", started=False)
    with pytest.raises(TelegramForbiddenError, match="can't initiate conversation"):
        await bot.send_message(user.id, "hi")


async def test_edit_or_delete_missing_message(bot: Bot, emulator: EmulatorClient) -> None:
    user = await emulator.create_user("U")
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text(text="x", chat_id=user.id, message_id=99)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(user.id, 99)
    mine = await user.send("hello")
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await bot.edit_message_text(text="x", chat_id=user.id, message_id=mine.message_id)
