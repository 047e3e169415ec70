"""The outbox on both databases: one row per key, claims, and what a dead sender left."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.db.models import Outbox, OutboxStatus
from bot.services import outbox
from bot.services.outbox import Envelope

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def _mail(n: int, key: str = "k", **kw) -> list[Envelope]:
    return [
        Envelope(chat_id=1000 + i, text=f"hi {i}", key=f"{key}:{i}", kind="t", **kw)
        for i in range(n)
    ]


async def _count(session, *where) -> int:
    return (
        await session.execute(select(func.count()).select_from(Outbox).where(*where))
    ).scalar_one()


async def test_the_same_key_twice_is_one_message(session):
    await outbox.enqueue(session, NOW, _mail(3))
    await session.commit()
    await outbox.enqueue(session, NOW, _mail(5))  # three of them again, two new
    await session.commit()
    assert await _count(session) == 5
    texts = (await session.execute(select(Outbox.text).order_by(Outbox.id))).scalars().all()
    assert texts == [f"hi {i}" for i in range(5)]


async def test_claim_takes_ready_rows_oldest_first_and_only_once(session):
    later = NOW + timedelta(hours=1)
    await outbox.enqueue(session, NOW, _mail(4))
    await outbox.enqueue(session, NOW, _mail(2, key="later", not_before=later))
    await session.commit()
    first = await outbox.claim(session, NOW, 3)
    await session.commit()
    second = await outbox.claim(session, NOW, 10)
    await session.commit()
    assert [r.chat_id for r in first] == [1000, 1001, 1002]
    assert [r.chat_id for r in second] == [1003]  # the later ones are not due yet
    assert all(r.status == OutboxStatus.sending for r in first + second)
    assert len(await outbox.claim(session, later, 10)) == 2


async def test_what_was_in_flight_is_pending_again(session):
    await outbox.enqueue(session, NOW, _mail(5))
    await session.commit()
    claimed = await outbox.claim(session, NOW, 3)
    await outbox.mark_sent(session, NOW, [claimed[0].id])
    await session.commit()
    assert await outbox.release_in_flight(session) == 2
    await session.commit()
    assert await _count(session, Outbox.status == OutboxStatus.pending.value) == 4
    assert await _count(session, Outbox.status == OutboxStatus.sent.value) == 1


async def test_unreachable_is_news_once(session):
    assert await outbox.mark_unreachable(session, NOW, 77)
    assert not await outbox.mark_unreachable(session, NOW, 77)
    assert await outbox.unreachable_among(session, [77, 78]) == {77}
    await outbox.clear_unreachable(session, 77)
    assert await outbox.unreachable_among(session, [77]) == set()
