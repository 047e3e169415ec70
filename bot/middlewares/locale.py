"""Choose each user's language: saved choice, else Telegram's language_code, else default."""

from __future__ import annotations

from aiogram.types import User
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import normalize_locale
from bot.services.members import Principal
from bot.services.prefs import remember_locale


async def choose_locale(
    i18n: I18n, session: AsyncSession, principal: Principal | None, user: User | None
) -> str:
    """The update's language (entered by `PrincipalMiddleware`)."""
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
            await remember_locale(session, principal.telegram_id, chosen)
            principal.saved_locale = chosen
    if chosen is None and principal is not None and principal.branch is not None:
        chosen = principal.branch.locale
    return chosen if chosen in i18n.locales else i18n.default_locale
