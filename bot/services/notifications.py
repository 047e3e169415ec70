"""Which optional reminders a person has muted (`/notifications`).

Refusals: `notifications.topic_unknown` (not an optional topic: mandatory reminders,
such as evaluation deadlines, cannot be muted).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import NotificationPref
from bot.services.errors import ServiceError

# Reminders a person may mute; everything else the bot sends unprompted is mandatory.
OPTIONAL_TOPICS = ("kickoff", "outstanding", "due", "month_close")


async def muted_topics(session: AsyncSession, telegram_id: int) -> set[str]:
    rows = await session.execute(
        select(NotificationPref.topic).where(NotificationPref.telegram_id == telegram_id)
    )
    return set(rows.scalars())


async def toggle(session: AsyncSession, telegram_id: int, topic: str) -> bool:
    """Mute `topic`, or unmute it if muted; returns True when it is now muted."""
    if topic not in OPTIONAL_TOPICS:
        raise ServiceError("notifications.topic_unknown")
    found = await session.get(NotificationPref, (telegram_id, topic))
    if found is not None:
        await session.delete(found)
        await session.flush()
        return False
    session.add(NotificationPref(telegram_id=telegram_id, topic=topic))
    await session.flush()
    return True
