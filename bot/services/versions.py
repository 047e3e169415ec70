"""Optimistic versions for shared records (issue 8, item 13).

Every decision on a shared record (a month's star level, a meeting) names the version
the person was shown. `claim` moves the row to the next version only if it still has
that one — a conditional UPDATE, so two people deciding at once cannot both win, on
SQLite or PostgreSQL — and otherwise refuses with `record.stale`; the caller then shows
the record as it is now.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.errors import ServiceError


async def claim(session: AsyncSession, model, row_id: int, shown: int) -> int:
    """The row's next version, written now; refused if it is no longer at `shown`."""
    result = await session.execute(
        update(model)
        .where(model.id == row_id, model.version == shown)
        .values(version=model.version + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise ServiceError("record.stale")
    return shown + 1


async def bump(session: AsyncSession, model, row_id: int) -> int:
    """Move the row to its next version whatever it was shown (a change no card named:
    the command line, an import, a side effect); every card shown before is then stale."""
    await session.execute(
        update(model)
        .where(model.id == row_id)
        .values(version=model.version + 1)
        .execution_options(synchronize_session=False)
    )
    return await session.scalar(select(model.version).where(model.id == row_id))
