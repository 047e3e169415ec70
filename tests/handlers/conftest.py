"""Fast handler tests: the real Dispatcher and database, a Bot whose session records requests.

The session answers each request with the response a test staged, or with the
plain success Telegram would give (a Message echoing what was sent, or True).
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response
from aiogram.types import Chat, Message, Update, User

from bot.app import App, build
from bot.clock import FixedClock
from bot.config import load_settings

BOT_ID = 42
SUPERUSER = 777


class RecordingSession(BaseSession):
    def __init__(self) -> None:
        super().__init__()
        self.requests: list[TelegramMethod[Any]] = []
        self.staged: deque[Any] = deque()
        self._ids = 1000

    async def make_request(self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None):
        self.requests.append(method)
        if self.staged:
            response = Response[method.__returning__](ok=True, result=self.staged.popleft())
            return self.check_response(bot, method, 200, response.model_dump_json())
        result = self._default(method)
        # Mounted like Telegram's answers are, so a handler can edit the message it sent.
        return result.as_(bot) if hasattr(result, "as_") else result

    def _default(self, method: TelegramMethod[Any]) -> Any:
        if method.__returning__ is Message or "Message" in str(method.__returning__):
            self._ids += 1
            chat_id = getattr(method, "chat_id", 1) or 1
            return Message(
                message_id=self._ids,
                date=datetime.now(UTC),
                chat=Chat(id=chat_id, type="private"),
                from_user=User(
                    id=BOT_ID, is_bot=True, first_name="branchbot", username="branchbot"
                ),
                text=getattr(method, "text", None),
            )
        if "User" in str(method.__returning__):
            return User(id=BOT_ID, is_bot=True, first_name="branchbot", username="branchbot")
        return True

    async def close(self) -> None:
        pass

    async def stream_content(self, *args: Any, **kwargs: Any):  # pragma: no cover
        raise NotImplementedError

    def sent(self, method: str = "SendMessage") -> list[TelegramMethod[Any]]:
        return [r for r in self.requests if type(r).__name__ == method]


class Harness:
    def __init__(self, app: App, bot: Bot, session: RecordingSession) -> None:
        self.app, self.bot, self.session = app, bot, session
        self._update_id = 0
        self._message_id = 0

    def _next(self) -> int:
        self._update_id += 1
        return self._update_id

    async def text(self, user: User, text: str) -> None:
        self._message_id += 1
        message = Message(
            message_id=self._message_id,
            date=datetime.now(UTC),
            chat=Chat(id=user.id, type="private"),
            from_user=user,
            text=text,
        )
        await self.feed(Update(update_id=self._next(), message=message))

    async def press(self, user: User, data: str, message_id: int = 1) -> None:
        from aiogram.types import CallbackQuery

        message = Message(
            message_id=message_id,
            date=datetime.now(UTC),
            chat=Chat(id=user.id, type="private"),
            from_user=User(id=BOT_ID, is_bot=True, first_name="branchbot"),
            text="…",
        )
        query = CallbackQuery(
            id=str(self._next()), from_user=user, chat_instance="1", message=message, data=data
        )
        await self.feed(Update(update_id=self._update_id, callback_query=query))

    async def feed(self, update: Update) -> None:
        await self.app.dispatcher.feed_update(self.bot, update)

    def texts(self) -> list[str]:
        return [r.text for r in self.session.sent()]

    def alerts(self) -> list[str]:
        return [r.text for r in self.session.sent("AnswerCallbackQuery")]


@pytest.fixture
async def harness(engine) -> AsyncIterator[Harness]:
    settings = load_settings(
        bot_token="42:TEST",
        database_url="sqlite+aiosqlite:///unused.db",
        superuser_ids=str(SUPERUSER),
    )
    app = build(settings, clock=FixedClock(), engine=engine)
    session = RecordingSession()
    bot = Bot("42:TEST", session=session)
    try:
        yield Harness(app, bot, session)
    finally:
        await app.dispatcher.storage.close()


def user(uid: int, lang: str = "zh-hans", name: str = "用户") -> User:
    return User(id=uid, is_bot=False, first_name=name, language_code=lang)
