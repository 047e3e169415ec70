"""Turn a service's refusal, or a commit that failed, into a clear message."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.utils.i18n import gettext as _

from bot.db.unit import NotSaved, commit_before_speaking
from bot.middlewares import answers
from bot.middlewares.db import RestorableState, tell_not_saved
from bot.services import audit
from bot.services.errors import ServiceError
from bot.texts import error_text

log = logging.getLogger(__name__)


class RefusalMiddleware(BaseMiddleware):
    """Inner middleware: a ServiceError rolls the update's writes back and is explained.

    Handlers can then call services straight through; every refusal has one
    rendering path, as an alert for a button press or a reply for a message. A commit
    that fails (before the handler spoke, or after it returned) is explained the same
    way, and the conversation is put back as it was before the update.
    """

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, CallbackQuery):
            return await self._explain(handler, event, data)
        # A press's plain answer waits until its checks are passed (bot.middlewares.answers).
        answers.install(data["bot"])
        hold = answers.begin()
        try:
            return await self._explain(handler, event, data)
        finally:
            answers.end(hold)

    async def _explain(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        try:
            result = await handler(event, data)
            # Committed here rather than after the update, so that a failure is still
            # told in the user's language (the locale is set only inside this layer).
            await commit_before_speaking()
            await answers.release(data["bot"])
            return result
        except NotSaved as exc:
            answers.drop()
            log.warning("not saved: commit failed (%s)", exc)
            state = data.get("state")
            if isinstance(state, RestorableState):
                await state.restore()
            await tell_not_saved(event, _)
            return None
        except ServiceError as err:
            answers.drop()
            if err.code == "access.denied" and isinstance(event, CallbackQuery):
                err = await _explain_denial(err, data)  # before the rollback expires the rows
            await data["session"].rollback()
            log.info("refused: %s", err.code)
            text = error_text(err, _, html=True)
            try:
                if isinstance(event, CallbackQuery):
                    await event.answer(text, show_alert=True)
                elif isinstance(event, Message):
                    await event.answer(text)
            except TelegramBadRequest:
                pass  # the query was already answered or is too old; nothing to repair
            return None
        except BaseException:
            answers.drop()  # the error handler answers the press
            raise


async def _explain_denial(err: ServiceError, data: dict[str, Any]) -> ServiceError:
    """A button from before a role was taken away is refused with that reason."""
    principal = data.get("principal")
    member = principal.member if principal is not None else None
    if member is None or member.role != "member":
        return err
    if await audit.role_was_taken(data["session"], member.id):
        return ServiceError("access.role_changed")
    return err
