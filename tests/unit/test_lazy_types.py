"""aiogram's types built on first use (bot/lazy_types.py) behave as the eager ones do.

Each check runs in a fresh interpreter: whether aiogram was imported before or after
`bot` decides which way its types are built.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# An update with a little of everything: a reply, entities, a keyboard, a contact.
SAMPLE = {
    "update_id": 7,
    "message": {
        "message_id": 11,
        "date": 1_780_000_000,
        "chat": {"id": 5, "type": "private", "first_name": "李"},
        "from": {"id": 5, "is_bot": False, "first_name": "李", "language_code": "zh-hans"},
        "text": "/me 你好",
        "entities": [{"type": "bot_command", "offset": 0, "length": 3}],
        "contact": {"phone_number": "+8613800000000", "first_name": "李", "user_id": 5},
        "reply_to_message": {
            "message_id": 10,
            "date": 1_779_999_999,
            "chat": {"id": 5, "type": "private"},
            "text": "上一条",
            "reply_markup": {"inline_keyboard": [[{"text": "好", "callback_data": "rv:1:1"}]]},
        },
    },
}

PARSE = """
import json, sys
{first}
from aiogram.types import Update
update = Update.model_validate(json.loads(sys.argv[1]))
print(json.dumps(update.model_dump(mode="json", exclude_none=True), sort_keys=True))
"""


def run(code: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_an_update_reads_the_same_built_lazily_as_eagerly() -> None:
    sample = json.dumps(SAMPLE)
    eager = run(PARSE.format(first="import aiogram"), sample)  # before bot: no hook
    lazy = run(PARSE.format(first="import bot"), sample)
    assert json.loads(lazy) == json.loads(eager)
    assert json.loads(lazy)["message"]["reply_to_message"]["reply_markup"]["inline_keyboard"]


def test_every_type_every_method_and_its_response_can_be_built() -> None:
    # A name aiogram imports only for type checkers and the hook failed to provide would
    # show here as "not fully defined", not in production at the first such update.
    code = """
import bot
import pydantic
import aiogram.methods as methods
import aiogram.types as types
from aiogram.methods.base import Response

assert not types.Update.__pydantic_complete__, "aiogram's types were built at import"
built = 0
for module in (types, methods):
    for name in module.__all__:
        model = getattr(module, name)
        if not (isinstance(model, type) and issubclass(model, pydantic.BaseModel)):
            continue
        model.model_rebuild()
        assert model.__pydantic_complete__, name
        returning = getattr(model, "__returning__", None)
        if returning is not None and not isinstance(returning, property):
            response = Response[returning]
            response.model_rebuild()
            assert response.__pydantic_complete__, name
        built += 1
print(built)
"""
    assert int(run(code)) > 500
