"""The last resort: an unexpected error is logged with its update id, and the user told."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent

from bot.db.unit import SAVED_NOTE
from bot.i18n import DEFAULT, gettext_for, normalize_locale

log = logging.getLogger("branchbot.errors")


async def on_error(event: ErrorEvent, bot: Bot) -> bool:
    update = event.update
    # The exception's type and message, never the update body: it holds personal data.
    log.error(
        "update %s failed: %s: %s",
        update.update_id,
        type(event.exception).__name__,
        event.exception,
        exc_info=event.exception,
    )
    user = None
    chat_id = None
    if update.message is not None:
        user, chat_id = update.message.from_user, update.message.chat.id
    elif update.callback_query is not None:
        user = update.callback_query.from_user
        if update.callback_query.message is not None:
            chat_id = update.callback_query.message.chat.id
    locale = (normalize_locale(user.language_code) if user else None) or DEFAULT
    _ = gettext_for(locale)
    if SAVED_NOTE in getattr(event.exception, "__notes__", ()):
        text = _(
            "Your change was saved, but something went wrong after that. "
            "Please check the result before trying again."
        )
    else:
        text = _("That failed and nothing was saved. Please try again.")
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif chat_id is not None:
            await bot.send_message(chat_id, text)
    except TelegramAPIError:
        pass  # telling the user is best effort; the error is already logged
    return True
