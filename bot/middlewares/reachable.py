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
        # The principal's query says whether they were unreachable: no query of its own.
        principal, session = data.get("principal"), data.get("session")
        if principal is not None and principal.unreachable and session is not None:
            await outbox.clear_unreachable(session, principal.telegram_id)
            principal.unreachable = False
        return await handler(event, data)
