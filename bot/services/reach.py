"""Whether the bot can still write to a member: Telegram's 403 is final until they write."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Member


async def mark_unreachable(session: AsyncSession, telegram_id: int, now: datetime) -> bool:
    """Telegram refused a message to this account (blocked the bot, deleted account).

    Returns whether a member was newly marked; the first refusal's time is kept.
    """
    result = await session.execute(
        update(Member)
        .where(Member.telegram_id == telegram_id, Member.unreachable_at.is_(None))
        .values(unreachable_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


async def clear_unreachable(session: AsyncSession, member: Member) -> None:
    """They wrote to the bot, so it can write to them again."""
    if member.unreachable_at is None:
        return
    member.unreachable_at = None
    await session.flush()
