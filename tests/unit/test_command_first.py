"""The quick look before aiogram's Command filter never turns away what Command takes."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from aiogram.filters import Command, CommandStart
from aiogram.types import Chat, Message, User

from handlers.registry import CommandFirst, as_async

TEXTS = [
    "/me", " /me now", "/me@branchbot", "/me@otherbot", "/mex", "me", "/", "/ me", "",
    "/HELP", "/help@branchbot arg", "/Help", "!help", "/start", "/start abc", "/Start",
    "/start@branchbot", "/cancel", "/cancel\nmore", "/language\tx", "／me", "/me\u00a0x",
]  # fmt: skip
FILTERS = [
    Command("me"),
    Command("help", ignore_case=True),
    Command("help", prefix="/!"),
    Command("cancel", "language"),
    CommandStart(deep_link=False),
    CommandStart(),
    Command(re.compile(r"m.")),
]


class Me:
    """Only what Command asks of the bot: its username, for "/cmd@name"."""

    async def me(self) -> User:
        return User(id=1, is_bot=True, first_name="b", username="branchbot")


def message(text: str, caption: bool = False) -> Message:
    return Message(
        message_id=1,
        date=datetime(2026, 1, 1, tzinfo=UTC),
        chat=Chat(id=5, type="private"),
        from_user=User(id=5, is_bot=False, first_name="u"),
        **({"caption": text} if caption else {"text": text}),
    )


@pytest.mark.parametrize("command", FILTERS, ids=str)
async def test_the_quick_look_agrees_with_command(command):
    quick = as_async(command)
    assert isinstance(quick, CommandFirst)
    for text in TEXTS:
        for caption in (False, True):
            msg = message(text, caption)
            full = await command(msg, Me())
            fast = await quick(msg, Me())
            assert bool(fast) == bool(full), (text, caption)
            if full:  # the same command reaches the handler (a regexp's match object aside)
                seen = [
                    (c.prefix, c.command, c.mention, c.args)
                    for c in (fast["command"], full["command"])
                ]
                assert seen[0] == seen[1]


def test_flags_still_name_the_command():
    flags: dict = {}
    as_async(Command("me")).update_handler_flags(flags)
    assert [str(c) for c in flags["commands"]] == [str(Command("me"))]
