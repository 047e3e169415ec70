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

from bot.db.models import AuditLog
from bot.services.errors import ServiceError

# The audit log's name for each versioned table.
_AUDITED_AS = {"member": "member", "meeting": "meeting", "period_snapshot": "snapshot"}


async def claim(
    session: AsyncSession, model, row_id: int, shown: int, *, by: int | None = None
) -> int:
    """The row's next version, written now; refused if it is no longer at `shown`.

    `by`: who decides. If the change since was their own (a second tap of the same
    button, queued behind the first), the refusal says so (`yours`), not "someone else".
    """
    result = await session.execute(
        update(model)
        .where(model.id == row_id, model.version == shown)
        .values(version=model.version + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        yours = by is not None and await last_changed_by(session, model, row_id) == by
        raise stale(yours)
    return shown + 1


def stale(yours: bool) -> ServiceError:
    return ServiceError("record.stale", yours=True) if yours else ServiceError("record.stale")


async def last_changed_by(session: AsyncSession, model, row_id: int) -> int | None:
    """The Telegram id behind the row's latest audited change (None: the CLI, or none)."""
    entity = _AUDITED_AS[model.__tablename__]
    return await session.scalar(
        select(AuditLog.actor_id)
        .where(AuditLog.entity == entity, AuditLog.entity_id == row_id)
        .order_by(AuditLog.id.desc())
        .limit(1)
    )


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
