"""The table of handled update ids stays small."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from bot.db.models import ProcessedUpdate
from bot.middlewares.db import prune_processed_updates, record_update

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


async def test_an_update_id_is_recorded_once_and_read_back_as_written(session):
    # Straight on the driver (bot.db.rows.Prepared): the row must be what SQLAlchemy
    # would have written (the time as the ORM reads and prunes it), and a second
    # delivery must raise SQLAlchemy's IntegrityError, which drops the update.
    await record_update(session, 7, NOW - timedelta(days=30))
    await record_update(session, 8, NOW)
    with pytest.raises(IntegrityError):
        await record_update(session, 8, NOW)
    await session.rollback()
    await record_update(session, 8, NOW)
    await record_update(session, 7, NOW - timedelta(days=30))
    await session.commit()
    rows = await session.execute(select(ProcessedUpdate).order_by(ProcessedUpdate.update_id))
    assert [(r.update_id, r.at) for r in rows.scalars()] == [
        (7, NOW - timedelta(days=30)),
        (8, NOW),
    ]
    assert await prune_processed_updates(session, NOW) == 1
