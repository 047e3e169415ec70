"""Exactly one scheduler (and sender) per database.

PostgreSQL: a session advisory lock held on a connection of its own; the server drops it
the moment that connection goes, so a killed scheduler never blocks its successor.
SQLite: a row with a lease the holder renews; a holder on this machine whose process is
gone is taken over at once (an SQLite file is only ever used from one machine), any other
only when its lease has run out.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.db.models import SchedulerLock
from bot.i18n import N_

ADVISORY_KEY = 0x6272616E6368  # "branch": the lock id every branchbot scheduler asks for
LOCK_NAME = "scheduler"


class SchedulerBusy(Exception):
    """Another scheduler holds the lock; the message says who and what to do.

    `pid` and `host` name the other process where the lock row tells."""

    def __init__(self, pid: str = "", host: str = "") -> None:
        self.pid, self.host = pid, host
        super().__init__(self.text())

    def text(self, _: Callable[[str], str] = str) -> str:
        if self.pid:
            return _(BUSY_BY).format(pid=self.pid, host=self.host)
        return _(BUSY)


BUSY = N_(
    "another scheduler is running on this database; run one scheduler per database: stop "
    "the other one, or start bot workers with `branchbot run --no-scheduler`"
)
BUSY_BY = N_(
    "another scheduler is running on this database (process {pid} on {host}); run one "
    "scheduler per database: stop the other one, or start bot workers with "
    "`branchbot run --no-scheduler`"
)


class AdvisoryLock:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.conn: AsyncConnection | None = None

    async def acquire(self) -> None:
        conn = await self.engine.connect()
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        got = (
            await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY})
        ).scalar_one()
        if not got:
            await conn.close()
            raise SchedulerBusy()
        self.conn = conn

    async def keep(self) -> bool:
        """Still held? (The lock lives as long as its connection.)"""
        if self.conn is None:
            return False
        try:
            await self.conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def release(self) -> None:
        if self.conn is not None:
            try:
                await self.conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
            finally:
                await self.conn.close()
                self.conn = None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class LeaseLock:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Clock, lease: timedelta
    ) -> None:
        self.sessions, self.clock, self.lease = sessions, clock, lease
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def _stale(self, row: SchedulerLock, now: datetime) -> bool:
        if row.expires_at <= now or row.holder == self.holder:
            return True
        host, _, rest = row.holder.partition(":")
        pid = rest.partition(":")[0]
        return host == socket.gethostname() and pid.isdigit() and not _pid_alive(int(pid))

    async def acquire(self) -> None:
        now = self.clock.now()
        async with self.sessions() as session:
            row = await session.get(SchedulerLock, LOCK_NAME)
            if row is not None and not self._stale(row, now):
                host, _, rest = row.holder.partition(":")
                await session.rollback()
                raise SchedulerBusy(rest.partition(":")[0], host)
            if row is None:
                session.add(
                    SchedulerLock(name=LOCK_NAME, holder=self.holder, expires_at=now + self.lease)
                )
            else:
                row.holder, row.expires_at = self.holder, now + self.lease
            await session.commit()

    async def keep(self) -> bool:
        async with self.sessions() as session:
            result = await session.execute(
                update(SchedulerLock)
                .where(SchedulerLock.name == LOCK_NAME, SchedulerLock.holder == self.holder)
                .values(expires_at=self.clock.now() + self.lease)
            )
            await session.commit()
            return bool(result.rowcount)

    async def release(self) -> None:
        async with self.sessions() as session:
            row = (
                await session.execute(
                    select(SchedulerLock).where(
                        SchedulerLock.name == LOCK_NAME, SchedulerLock.holder == self.holder
                    )
                )
            ).scalar_one_or_none()
            if row is not None:
                await session.delete(row)
            await session.commit()


def lock_for(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    lease: timedelta = timedelta(seconds=60),
) -> AdvisoryLock | LeaseLock:
    if engine.dialect.name == "postgresql":
        return AdvisoryLock(engine)
    return LeaseLock(sessions, clock, lease)
