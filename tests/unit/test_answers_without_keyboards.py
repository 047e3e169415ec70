"""Telegram's JSON is read without the inline keyboards the bot never reads back."""

from __future__ import annotations

import json

from aiogram.methods import EditMessageText, GetUpdates
from aiogram.methods.base import Response

from bot.delivery import read_answer, without_keyboards

KEYBOARD = {"inline_keyboard": [[{"text": "优秀", "callback_data": "bm:1:2:0:0"}]]}
MESSAGE = {
    "message_id": 7,
    "date": 1,
    "chat": {"id": 5, "type": "private", "first_name": "张伟"},
    "text": "无记名投票",
    "reply_markup": KEYBOARD,
}
PRESS = {
    "update_id": 9,
    "callback_query": {
        "id": "1",
        "from": {"id": 5, "is_bot": False, "first_name": "张伟"},
        "chat_instance": "c",
        "message": MESSAGE,
        "data": "bm:1:2:0:0",
    },
}


def test_an_edited_message_is_parsed_without_its_keyboard():
    content = json.dumps({"ok": True, "result": MESSAGE})
    answer = Response[EditMessageText.__returning__].model_validate(read_answer(content))
    assert answer.result.message_id == 7 and answer.result.text == "无记名投票"
    assert answer.result.reply_markup is None


def test_a_press_keeps_everything_but_the_keyboard_of_its_message():
    content = json.dumps({"ok": True, "result": [PRESS, {"update_id": 10, "message": MESSAGE}]})
    answer = Response[GetUpdates.__returning__].model_validate(read_answer(content))
    press, message = answer.result
    assert press.callback_query.data == "bm:1:2:0:0"
    assert press.callback_query.message.chat.id == 5
    assert press.callback_query.message.reply_markup is None
    # A person's own message is read as it came.
    assert message.message.reply_markup is not None


def test_a_webhook_update_and_odd_shapes_pass_through():
    update = without_keyboards(json.loads(json.dumps(PRESS)))
    assert "reply_markup" not in update["callback_query"]["message"]
    assert update["callback_query"]["data"] == "bm:1:2:0:0"
    for odd in ([1, 2], "x", {"ok": False, "description": "Bad Request"}, {"result": True}):
        assert without_keyboards(odd) == odd
