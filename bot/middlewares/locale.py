"""Choose each user's language: saved choice, else Telegram's language_code, else default."""

from __future__ import annotations

from typing import Any

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware

from bot.i18n import normalize_locale
from bot.services.prefs import remember_locale


class LocaleMiddleware(I18nMiddleware):
    def __init__(self, i18n: I18n) -> None:
        super().__init__(i18n)

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        principal = data.get("principal")
        user: User | None = data.get("event_from_user")
        chosen = None
        if principal is not None:
            if principal.member is not None and principal.member.locale:
                chosen = principal.member.locale
            else:
                chosen = principal.saved_locale  # read with the principal
        if chosen is None and user is not None:
            chosen = normalize_locale(user.language_code)
            if chosen is not None and principal is not None:
                # Remembered so that messages sent to this person unprompted (approvals,
                # reminders) use the language their Telegram app reported.
                await remember_locale(data["session"], principal.telegram_id, chosen)
                principal.saved_locale = chosen
        if chosen is None and principal is not None and principal.branch is not None:
            chosen = principal.branch.locale
        locale = chosen if chosen in self.i18n.available_locales else self.i18n.default_locale
        data["locale"] = locale
        return locale
