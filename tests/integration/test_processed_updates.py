"""The table of handled update ids stays small."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.db.models import ProcessedUpdate
from bot.middlewares.db import prune_processed_updates

NOW = datetime(2026, 7, 1, tzinfo=UTC)


async def test_old_update_ids_are_forgotten(session):
    session.add_all(
        [
            ProcessedUpdate(update_id=1, at=NOW - timedelta(days=30)),
            ProcessedUpdate(update_id=2, at=NOW - timedelta(days=1)),
        ]
    )
    await session.flush()
    assert await prune_processed_updates(session, NOW) == 1
    left = await session.execute(select(func.count()).select_from(ProcessedUpdate))
    assert left.scalar_one() == 1
