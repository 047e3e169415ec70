"""Updates no handler can serve safely are answered here, before any handler runs.

A press on a message Telegram no longer lets the bot touch (older than 48 hours, or
deleted: an `InaccessibleMessage`), or on an inline message, has nothing to edit;
a message with no person behind it (a channel or an anonymous admin speaking in a
group) has nobody to check permissions for. Handlers may therefore assume a press
has its message and a message has its sender.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InaccessibleMessage, Message, TelegramObject
from aiogram.utils.i18n import gettext as _

# Telegram's stand-ins for a chat speaking as itself: anonymous group admins and
# channels post under these ids, with the real sender in `sender_chat`.
STAND_INS = frozenset({1087968824, 136817688})


class GuardMiddleware(BaseMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if isinstance(event, CallbackQuery):
            if event.message is None or isinstance(event.message, InaccessibleMessage):
                try:
                    await event.answer(
                        _("This button has expired. Please start again."), show_alert=True
                    )
                except TelegramBadRequest:
                    pass  # the query itself is too old to answer
                return None
        elif isinstance(event, Message):
            sender = event.from_user
            if sender is None or sender.id in STAND_INS or event.sender_chat is not None:
                if event.chat.type == "private" or (event.text or "").startswith("/"):
                    await event.answer(
                        _("Please write to me as yourself, not as a channel or an anonymous admin.")
                    )
                return None
        return await handler(event, data)
