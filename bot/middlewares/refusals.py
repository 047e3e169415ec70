"""Turn a service's refusal, or a commit that failed, into a clear message."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    CallbackQuery,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    TelegramObject,
)
from aiogram.utils.i18n import gettext as _

from bot.db.unit import NotSaved, commit_before_speaking
from bot.middlewares import answers
from bot.middlewares.db import RestorableState, tell_not_saved
from bot.services import audit
from bot.services.errors import ServiceError
from bot.texts import error_text

log = logging.getLogger(__name__)


Menu = Callable[[Any], ReplyKeyboardMarkup | None]
# Refusals that can mean "you no longer hold the role (or the membership) this needed".
_ROLE_REFUSALS = frozenset(
    {"access.denied", "month.no_branch", "eval.no_branch", "rsvp.not_member"}
)
_CHANGED = frozenset({"access.role_changed", "access.role_now", "access.left"})


class RefusalMiddleware(BaseMiddleware):
    """Inner middleware: a ServiceError rolls the update's writes back and is explained.

    Handlers can then call services straight through; every refusal has one
    rendering path, as an alert for a button press or a reply for a message. A commit
    that fails (before the handler spoke, or after it returned) is explained the same
    way, and the conversation is put back as it was before the update.

    Someone refused because their role was taken away, their staff seat removed or
    because they left the branch is told so; their old buttons lose their keyboard and a
    command gets the menu they have now (`menu`, given by the composition root), so the
    old menu stops offering what they can no longer do.
    """

    def __init__(self, menu: Menu | None = None) -> None:
        self.menu = menu

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
            if err.code in _ROLE_REFUSALS:
                err = await _explain_denial(err, event, data)  # before the rollback expires rows
            changed = err.code in _CHANGED
            menu = None
            if changed and isinstance(event, Message) and self.menu is not None:
                menu = self.menu(data.get("principal")) or ReplyKeyboardRemove()
            await data["session"].rollback()
            log.info("refused: %s", err.code)
            text = error_text(err, _, html=True)
            try:
                if isinstance(event, CallbackQuery):
                    await event.answer(text, show_alert=True)
                    message = event.message
                    # Only their own private message: a group's notice keeps its buttons
                    # for everyone else.
                    if changed and isinstance(message, Message) and message.chat.type == "private":
                        await message.edit_reply_markup(reply_markup=None)
                elif isinstance(event, Message):
                    await event.answer(text, reply_markup=menu)
            except TelegramBadRequest:
                pass  # the query was already answered or is too old; nothing to repair
            return None
        except BaseException:
            answers.drop()  # the error handler answers the press
            raise


async def _explain_denial(
    err: ServiceError, event: TelegramObject, data: dict[str, Any]
) -> ServiceError:
    """A refusal of someone whose role changed says so: a member who left the branch,
    a secretary or organising member relieved of the role, staff removed from their
    committee. Anyone else keeps the plain refusal."""
    principal = data.get("principal")
    if principal is None or principal.is_superuser or principal.staff_orgs:
        return err
    session = data["session"]
    changed = ServiceError(
        "access.role_changed" if isinstance(event, CallbackQuery) else "access.role_now"
    )
    member = principal.member
    if member is None:
        if principal.left_branch is not None:
            return ServiceError("access.left", branch=principal.left_branch.name)
        if await audit.staff_was_removed(session, principal.telegram_id):
            return changed
        return err
    if err.code != "access.denied":
        return err
    if member.role == "member" and await audit.role_was_taken(session, member.id):
        return changed
    if await audit.staff_was_removed(session, principal.telegram_id):
        return changed
    return err
