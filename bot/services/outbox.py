"""The outbox: every unprompted message (reminders, notices to other people, broadcasts).

Writers only insert, one row per recipient and message, and a second insert with the
same `dedupe_key` does nothing (`INSERT … ON CONFLICT DO NOTHING` on both databases), so a
job that runs twice, or a handler retried after a failed commit, tells nobody twice.
Rows are inserted in the writer's own transaction: a message exists once the change that
caused it is committed, and never before.

The sender (`bot.sender`) claims ready rows (`pending`, `not_before` passed) by marking
them `sending`, and marks each one sent, retried later, failed or unreachable. Only one
sender runs per database (it runs beside the scheduler, under the same lock), so at its
start every `sending` row is one the previous sender had in flight when it died: those go
back to `pending` and may reach their recipient twice; no other row can.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import event, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Outbox, OutboxStatus, Unreachable

INSERT_CHUNK = 2000  # rows per INSERT: well under both databases' parameter limits

# Senders running in this process, woken when a transaction that enqueued commits.
_wakers: set[Callable[[], None]] = set()


def add_waker(wake: Callable[[], None]) -> None:
    _wakers.add(wake)


def remove_waker(wake: Callable[[], None]) -> None:
    _wakers.discard(wake)


def _wake_after_commit(session: AsyncSession) -> None:
    sync = session.sync_session
    if event.contains(sync, "after_commit", _wake_all):
        return
    event.listen(sync, "after_commit", _wake_all, once=True)


def _wake_all(_session) -> None:
    for wake in list(_wakers):
        wake()


@dataclass(frozen=True, slots=True)
class Envelope:
    """One message for one chat; `key` makes it unique (the same key twice is one message)."""

    chat_id: int
    text: str
    key: str
    kind: str
    markup: dict | None = None
    file_id: str | None = None
    file_kind: str | None = None  # "photo" or "document"
    not_before: datetime | None = None  # None: as soon as possible
    broadcast_id: int | None = field(default=None)


def _insert(session: AsyncSession):
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(Outbox.__table__).on_conflict_do_nothing(index_elements=["dedupe_key"])


async def enqueue(session: AsyncSession, now: datetime, envelopes: Iterable[Envelope]) -> int:
    """Insert the messages not already in the outbox; returns how many were offered."""
    rows = [
        {
            "dedupe_key": e.key[:160],
            "chat_id": e.chat_id,
            "kind": e.kind,
            "text": e.text,
            "markup": e.markup,
            "file_id": e.file_id,
            "file_kind": e.file_kind,
            "broadcast_id": e.broadcast_id,
            "status": OutboxStatus.pending.value,
            "attempts": 0,
            "not_before": e.not_before or now,
            "created_at": now,
        }
        for e in envelopes
    ]
    for start in range(0, len(rows), INSERT_CHUNK):
        await session.execute(_insert(session), rows[start : start + INSERT_CHUNK])
    if rows:
        _wake_after_commit(session)
    return len(rows)


async def release_in_flight(session: AsyncSession) -> int:
    """At the sender's start: what a dead sender had claimed is pending again."""
    result = await session.execute(
        update(Outbox)
        .where(Outbox.status == OutboxStatus.sending.value)
        .values(status=OutboxStatus.pending.value)
    )
    return result.rowcount or 0


async def claim(session: AsyncSession, now: datetime, limit: int) -> list[Outbox]:
    """Mark up to `limit` ready rows `sending` and return them, oldest first."""
    ids = list(
        (
            await session.execute(
                select(Outbox.id)
                .where(Outbox.status == OutboxStatus.pending.value, Outbox.not_before <= now)
                .order_by(Outbox.not_before, Outbox.id)
                .limit(limit)
            )
        ).scalars()
    )
    if not ids:
        return []
    await session.execute(
        update(Outbox).where(Outbox.id.in_(ids)).values(status=OutboxStatus.sending.value)
    )
    rows = await session.execute(
        select(Outbox).where(Outbox.id.in_(ids)).order_by(Outbox.not_before, Outbox.id)
    )
    return list(rows.scalars())


async def mark_sent(session: AsyncSession, now: datetime, ids: Sequence[int]) -> None:
    if ids:
        await session.execute(
            update(Outbox)
            .where(Outbox.id.in_(ids))
            .values(status=OutboxStatus.sent.value, sent_at=now, error=None)
        )


async def mark_later(
    session: AsyncSession, row_id: int, when: datetime, attempts: int, error: str | None
) -> None:
    """Back to pending until `when` (a retry after an error, or a chat's own pace)."""
    await session.execute(
        update(Outbox)
        .where(Outbox.id == row_id)
        .values(
            status=OutboxStatus.pending.value,
            not_before=when,
            attempts=attempts,
            error=error[:200] if error else None,
        )
    )


async def mark_final(
    session: AsyncSession, row_id: int, status: OutboxStatus, attempts: int, error: str
) -> None:
    await session.execute(
        update(Outbox)
        .where(Outbox.id == row_id)
        .values(status=status.value, attempts=attempts, error=error[:200])
    )


async def mark_unreachable(session: AsyncSession, now: datetime, telegram_id: int) -> bool:
    """Remember that `telegram_id` blocked the bot; True if this is news."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    result = await session.execute(
        dialect.insert(Unreachable.__table__)
        .on_conflict_do_nothing(index_elements=["telegram_id"])
        .values(telegram_id=telegram_id, since=now)
    )
    return bool(result.rowcount)


async def clear_unreachable(session: AsyncSession, telegram_id: int) -> None:
    """They wrote to the bot again: it can reach them."""
    found = await session.get(Unreachable, telegram_id)
    if found is not None:
        await session.delete(found)
        await session.flush()


async def unreachable_among(session: AsyncSession, telegram_ids: Iterable[int]) -> set[int]:
    ids = [i for i in telegram_ids if i is not None]
    if not ids:
        return set()
    rows = await session.execute(
        select(Unreachable.telegram_id).where(Unreachable.telegram_id.in_(ids))
    )
    return set(rows.scalars())


@dataclass(frozen=True)
class OutboxCounts:
    by_status: dict[str, int]
    recent_failures: list[Outbox]

    def count(self, status: OutboxStatus) -> int:
        return self.by_status.get(status.value, 0)


async def counts(
    session: AsyncSession, now: datetime, *, broadcast_id: int | None = None, failures: int = 10
) -> OutboxCounts:
    stmt = select(Outbox.status, func.count()).group_by(Outbox.status)
    if broadcast_id is not None:
        stmt = stmt.where(Outbox.broadcast_id == broadcast_id)
    by_status = {s: n for s, n in (await session.execute(stmt)).all()}
    recent: list[Outbox] = []
    if failures:
        fail_stmt = (
            select(Outbox)
            .where(
                Outbox.status.in_((OutboxStatus.failed.value, OutboxStatus.unreachable.value)),
                Outbox.created_at >= now - timedelta(days=7),
            )
            .order_by(Outbox.id.desc())
            .limit(failures)
        )
        if broadcast_id is not None:
            fail_stmt = fail_stmt.where(Outbox.broadcast_id == broadcast_id)
        recent = list((await session.execute(fail_stmt)).scalars())
    return OutboxCounts(by_status, recent)
