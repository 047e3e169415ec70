"""Someone the bot could not reach (they had blocked it) is reachable again once they write."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject

from bot.services import outbox


class ReachableMiddleware(BaseMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user, session = data.get("event_from_user"), data.get("session")
        if user is not None and session is not None:
            await outbox.clear_unreachable(session, user.id)
        return await handler(event, data)
