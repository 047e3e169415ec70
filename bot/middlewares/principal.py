"""Who is acting, in which language, and whether anything may handle it: one layer.

Loaded once per update, after the transaction is open: the principal (member record,
branch, staff rights, saved language, unreachable flag in one statement); someone the
bot had found unreachable is reachable again (`reachable`); their language is chosen
(`locale`) and entered for everything below, as aiogram's `I18nMiddleware` would enter
it (`get_i18n()` and `_()` read it); and an update no handler can serve is answered
here (`guard`). One middleware instead of four: aiogram wraps each layer anew for
every update (a `functools.partial` and `update_wrapper` per layer and event), which
cost more than most of the layers' own work.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update, User
from aiogram.utils.i18n import I18n

from bot.middlewares.guard import turned_away
from bot.middlewares.locale import choose_locale
from bot.middlewares.reachable import reachable_again
from bot.services.members import load_principal


class PrincipalMiddleware(BaseMiddleware):
    """Outer middleware on updates, after `DbSessionMiddleware` (it needs the session).

    Not around the error handler: after a rollback the principal's rows are expired, and
    the error handler finds the language on its own."""

    def __init__(self, i18n: I18n, superusers: frozenset[int]) -> None:
        self.i18n = i18n
        self.superusers = superusers

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        session = data["session"]
        principal = (
            await load_principal(session, user.id, self.superusers) if user is not None else None
        )
        data["principal"] = principal
        if principal is not None and principal.unreachable:
            await reachable_again(session, principal)
        locale = await choose_locale(self.i18n, session, principal, user)
        data["locale"] = locale
        i18n = self.i18n
        current = I18n.set_current(i18n)
        chosen = i18n.ctx_locale.set(locale)
        try:
            # What the guard says is in the user's language.
            if isinstance(event, Update) and await turned_away(event):
                return None
            return await handler(event, data)
        finally:
            i18n.ctx_locale.reset(chosen)
            I18n.reset_current(current)
