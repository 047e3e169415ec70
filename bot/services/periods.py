"""Month close: frozen results per branch, proposed stars, and the superior's confirmation."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import PeriodSnapshot


def month_of_day(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


async def is_closed(session: AsyncSession, org_id: int, period: str) -> bool:
    """Whether the branch's result for month `period` has been frozen."""
    found = await session.execute(
        select(PeriodSnapshot.id).where(
            PeriodSnapshot.org_id == org_id, PeriodSnapshot.period == period
        )
    )
    return found.first() is not None
