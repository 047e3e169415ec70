"""Who is acting: member record, branch, staff rights — loaded once per update."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update, User

from bot.services.members import load_principal
from bot.services.reach import clear_unreachable


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
        principal = (
            await load_principal(data["session"], user.id, self.superusers) if user else None
        )
        data["principal"] = principal
        # Anything they send proves the bot can reach them again, except the update
        # that says they blocked it.
        blocking = isinstance(event, Update) and event.my_chat_member is not None
        if principal is not None and principal.member is not None and not blocking:
            await clear_unreachable(data["session"], principal.member)
        return await handler(event, data)
