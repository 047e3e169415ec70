"""The refusal comes before the answer: a press's plain answer waits for the checks.

Telegram takes one answer per button press. A handler that answers first
(`query.answer()`, to stop the spinner) and then reaches a permission check would
lose the refusal alert: the press was already answered. So while a press is handled,
a plain answer (no text, no URL) is held back, and sent

- as soon as the handler says anything else (it got past its checks), or
- when the handler returns;

and dropped when the press is refused, so that the refusal alert is the answer.
Installed on the Bot's session by `RefusalMiddleware`, which opens and closes the hold.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods import AnswerCallbackQuery, TelegramMethod
from aiogram.methods.base import TelegramType


@dataclass
class Hold:
    open: bool = True
    answer: AnswerCallbackQuery | None = None


_hold: ContextVar[Hold | None] = ContextVar("branchbot_answer_hold", default=None)


def begin() -> Any:
    return _hold.set(Hold())


def end(token: Any) -> None:
    _hold.reset(token)


async def release(bot: Bot) -> None:
    """Send the held answer, if any: the handler is past its checks."""
    hold = _hold.get()
    if hold is None or not hold.open:
        return
    hold.open = False
    if hold.answer is not None:
        answer, hold.answer = hold.answer, None
        await bot(answer)


def drop() -> None:
    """The press was refused: its refusal is the answer."""
    hold = _hold.get()
    if hold is not None:
        hold.open = False
        hold.answer = None


class HoldPlainAnswers(BaseRequestMiddleware):
    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Any:
        hold = _hold.get()
        if hold is not None and hold.open:
            if isinstance(method, AnswerCallbackQuery) and not (method.text or method.url):
                hold.answer = method
                return True
            await release(bot)
        return await make_request(bot, method)


def install(bot: Bot) -> None:
    if not any(isinstance(m, HoldPlainAnswers) for m in bot.session.middleware):
        bot.session.middleware(HoldPlainAnswers())
