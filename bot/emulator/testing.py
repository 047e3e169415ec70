"""Helpers to run a real aiogram bot against the emulator in tests (and in the demo)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer


class LocalSession(AiohttpSession):
    """aiogram's session minus the 250 ms pause on close, which only TLS connections need."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


def aiogram_bot(base_url: str, token: str, **bot_kwargs: Any) -> Bot:
    """An aiogram ``Bot`` whose requests go to the emulator at ``base_url``."""
    session = LocalSession(api=TelegramAPIServer.from_base(base_url))
    return Bot(token, session=session, **bot_kwargs)


@contextlib.asynccontextmanager
async def polling(dispatcher: Dispatcher, bot: Bot, **kwargs: Any) -> AsyncIterator[None]:
    """Run ``dispatcher`` polling ``bot`` in this event loop for the duration of the block.

    Updates wait in the emulator's queue until the poller takes them, so the block may
    start acting as users right away. The bot's session stays open (the caller owns it).
    """
    kwargs.setdefault("polling_timeout", 5)
    task = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False, **kwargs)
    )
    try:
        yield
    finally:
        if not task.done():
            with contextlib.suppress(RuntimeError):  # raised when polling had not started yet
                await asyncio.wait_for(dispatcher.stop_polling(), 5)
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
