"""Nightly upkeep: forget delivered messages and handled update ids after a while."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

from bot.db.models import Outbox, OutboxStatus
from bot.middlewares.db import prune_processed_updates
from bot.scheduler.jobs import JobContext, Jobs

jobs = Jobs()

# Long enough that no job re-enqueues a message whose row is gone: every dedupe key
# names a month, and a month's reminders stop within the grace time.
KEEP_OUTBOX = timedelta(days=90)
DONE = (OutboxStatus.sent, OutboxStatus.failed, OutboxStatus.unreachable)


@jobs.periodic("housekeeping.prune", hour=19, minute=30)  # 03:30 in China
async def prune(ctx: JobContext) -> None:
    now = ctx.clock.now()
    async with ctx.sessions() as session:
        await session.execute(
            delete(Outbox).where(
                Outbox.status.in_(
                    (
                        OutboxStatus.sent.value,
                        OutboxStatus.failed.value,
                        OutboxStatus.unreachable.value,
                    )
                ),
                Outbox.created_at < now - KEEP_OUTBOX,
            )
        )
        await prune_processed_updates(session, now)
        await session.commit()
