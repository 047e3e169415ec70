"""Updates no handler can serve safely are answered here, before any handler runs.

A press on a message Telegram no longer lets the bot touch (older than 48 hours, or
deleted: an `InaccessibleMessage`), or on an inline message, has nothing to edit;
a message with no person behind it (a channel or an anonymous admin speaking in a
group) has nobody to check permissions for. Handlers may therefore assume a press
has its message and a message has its sender.
"""

from __future__ import annotations

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import InaccessibleMessage, Update
from aiogram.utils.i18n import gettext as _

# Telegram's stand-ins for a chat speaking as itself: anonymous group admins and
# channels post under these ids, with the real sender in `sender_chat`.
STAND_INS = frozenset({1087968824, 136817688})


async def turned_away(update: Update) -> bool:
    """True when the update was answered here and no handler may see it (called by
    `PrincipalMiddleware` once the user's language is entered)."""
    press = update.callback_query
    if press is not None:
        if press.message is None or isinstance(press.message, InaccessibleMessage):
            try:
                await press.answer(
                    _("This button has expired. Please start again."), show_alert=True
                )
            except TelegramBadRequest:
                pass  # the query itself is too old to answer
            return True
        return False
    message = update.message
    if message is None:
        return False
    sender = message.from_user
    if sender is None or sender.id in STAND_INS or message.sender_chat is not None:
        if message.chat.type == "private" or (message.text or "").startswith("/"):
            await message.answer(
                _("Please write to me as yourself, not as a channel or an anonymous admin.")
            )
        return True
    return False
