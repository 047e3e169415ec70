"""Who is acting: member record, branch, staff rights — loaded once per update."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User

from bot.services.members import load_principal


class PrincipalMiddleware(BaseMiddleware):
    def __init__(self, superusers: frozenset[int]) -> None:
        self.superusers = superusers

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        data["principal"] = (
            await load_principal(data["session"], user.id, self.superusers) if user else None
        )
        return await handler(event, data)
