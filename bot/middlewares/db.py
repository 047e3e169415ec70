"""One database transaction per update: the only place that commits."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.db.models import ProcessedUpdate

log = logging.getLogger(__name__)


class DbSessionMiddleware(BaseMiddleware):
    """Open a session, drop an update seen before, commit on success, roll back on error.

    The update id is recorded in the same transaction as the handler's writes, so a
    webhook retry of a handled update does nothing, and a failed one can be retried.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        assert isinstance(event, Update)
        async with self.sessions() as session:
            try:
                await session.execute(
                    insert(ProcessedUpdate).values(update_id=event.update_id, at=self.clock.now())
                )
            except IntegrityError:
                await session.rollback()
                return None  # a duplicate delivery: handled already (or being handled)
            data["session"] = session
            try:
                result = await handler(event, data)
            except BaseException:
                await session.rollback()
                raise
            await session.commit()
            await run_after_commit(session)
            return result


async def run_after_commit(session: AsyncSession) -> None:
    """Work a service asked for once its writes are durable (e.g. sealing a closed
    vote, which needs a connection of its own). A failure is logged, not raised: the
    update has been handled."""
    for hook in session.info.pop("after_commit", []):
        try:
            await hook(session.bind)
        except Exception:
            log.exception("after-commit work failed: %s", getattr(hook, "__name__", hook))


KEEP_UPDATE_IDS = timedelta(days=7)


async def prune_processed_updates(session: AsyncSession, now: datetime) -> int:
    """Forget update ids older than a week: Telegram retries a webhook for hours, not days,
    and a table that only grows would slow every insert above."""
    result = await session.execute(
        delete(ProcessedUpdate).where(ProcessedUpdate.at < now - KEEP_UPDATE_IDS)
    )
    return result.rowcount or 0
