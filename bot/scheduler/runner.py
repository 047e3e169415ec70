"""The scheduler process part: one lock, APScheduler's jobs, and the outbox sender.

`Scheduler.start()` takes the database's scheduler lock (a second scheduler is refused
with `SchedulerBusy`), adds every job with its stable id (`replace_existing`,
`coalesce`, a misfire grace of `REMINDER_GRACE_HOURS`), runs at once each job whose
trigger fired while no scheduler was running (one run however many were missed), and
starts the sender. Every run is recorded in `job_run` for `branchbot status`.

`start()` is `claim()` (the lock, kept alive from then on) then `begin()` (the rest):
`branchbot run` claims before it polls, so that a second scheduler is refused before
anything starts, and begins once the bot has polled (`bot.app.run_polling`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, timedelta
from typing import TYPE_CHECKING

from aiogram import Bot
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.models import JobRun
from bot.scheduler.jobs import JobContext, JobSpec, all_jobs
from bot.scheduler.lock import SchedulerBusy, lock_for
from bot.sender import Sender, SendLimits

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger(__name__)

__all__ = ["Scheduler", "SchedulerBusy"]


def send_limits(settings) -> SendLimits:
    return SendLimits(
        per_second=settings.send_per_second,
        private_per_second=settings.send_private_per_second,
        group_per_minute=settings.send_group_per_minute,
    )


class Scheduler:
    def __init__(
        self,
        ctx: JobContext,
        engine: AsyncEngine,
        bot: Bot | None = None,
        jobs: list[JobSpec] | None = None,
        *,
        lease: timedelta = timedelta(seconds=60),
        send: SendLimits | None = None,
    ) -> None:
        self.ctx = ctx
        self.engine = engine
        self.jobs = {spec.id: spec for spec in (all_jobs() if jobs is None else jobs)}
        self.lock = lock_for(engine, ctx.sessions, ctx.clock, lease)
        self.lease = lease
        self.aps: AsyncIOScheduler | None = None
        self.sender: Sender | None = None
        if bot is not None:
            from bot.scheduler.calendar import tell_unreachable

            self.sender = Sender(
                bot,
                ctx.sessions,
                ctx.clock,
                send or send_limits(ctx.settings),
                on_unreachable=lambda session, tg: tell_unreachable(ctx, session, tg),
            )
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        await self.claim()
        await self.begin()

    async def claim(self) -> None:
        """Take the database's scheduler lock (`SchedulerBusy` if another holds it) and
        keep it from now on."""
        await self.lock.acquire()
        self._tasks.append(asyncio.create_task(self._keep_lock()))

    async def begin(self) -> None:
        """Schedule the jobs, run those missed, start the sender (after `claim`)."""
        try:
            await self._schedule()
        except BaseException:
            await self.stop()
            raise
        if self.sender is not None:
            self._tasks.append(asyncio.create_task(self.sender.run(self._stop)))

    async def _schedule(self) -> None:
        # Imported here: `branchbot run` begins the scheduler after its first poll, and
        # what the first answer waits for should not include APScheduler's import.
        from apscheduler.schedulers.asyncio import AsyncIOScheduler
        from apscheduler.triggers.cron import CronTrigger

        grace = int(self.ctx.grace.total_seconds())
        self.aps = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "misfire_grace_time": grace, "max_instances": 1},
        )
        async with self.ctx.sessions() as session:
            last = {
                r.job_id: r.last_run_at
                for r in (await session.execute(JobRun.__table__.select())).all()
            }
        now = self.ctx.clock.now()
        missed: list[str] = []
        for spec in self.jobs.values():
            trigger = CronTrigger(timezone=UTC, **spec.cron)
            ran = last.get(spec.id)
            if ran is not None and trigger.get_next_fire_time(None, ran + _TICK) <= now:
                missed.append(spec.id)
            self.aps.add_job(
                self.run_job,
                trigger,
                args=[spec.id],
                id=spec.id,
                name=spec.id,
                replace_existing=True,
            )
        self.aps.start()
        await self._record_next()
        if missed:
            # Fired while no scheduler ran: once now, however many times it was missed
            # (each job decides from the clock what is still within its grace time). Run
            # here rather than handed to APScheduler with a past run time, whose misfire
            # check compares it with the wall clock, not with the injectable one.
            self._tasks.append(asyncio.create_task(self._catch_up(missed)))

    async def _catch_up(self, job_ids: list[str]) -> None:
        for job_id in job_ids:
            if self._stop.is_set():
                return
            await self.run_job(job_id)

    async def _record_next(self, job_id: str | None = None) -> None:
        assert self.aps is not None
        async with self.ctx.sessions() as session:
            for job in self.aps.get_jobs():
                if job_id is not None and job.id != job_id:
                    continue
                row = await session.get(JobRun, job.id) or JobRun(job_id=job.id)
                row.next_run_at = job.next_run_time
                session.add(row)
            await session.commit()

    async def run_job(self, job_id: str) -> None:
        """Run one job now (APScheduler calls this; tests call it after moving the clock)."""
        spec = self.jobs[job_id]
        error = None
        try:
            await spec.func(self.ctx)
        except Exception as exc:
            log.exception("job %s failed", job_id)
            error = f"{type(exc).__name__}: {exc}"[:200]
        async with self.ctx.sessions() as session:
            row = await session.get(JobRun, job_id) or JobRun(job_id=job_id)
            row.last_run_at = self.ctx.clock.now()
            row.last_error = error
            if self.aps is not None and (job := self.aps.get_job(job_id)) is not None:
                row.next_run_at = job.next_run_time
            session.add(row)
            await session.commit()

    async def run_all(self) -> None:
        for job_id in self.jobs:
            await self.run_job(job_id)

    async def _keep_lock(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.lease.total_seconds() / 3)
            if self._stop.is_set():
                return
            if not await self.lock.keep():
                log.error("scheduler: lost the scheduler lock; stopping scheduled jobs")
                if self.aps is not None and self.aps.running:
                    self.aps.shutdown(wait=False)
                self._stop.set()

    async def stop(self) -> None:
        self._stop.set()
        if self.sender is not None:
            self.sender.wake()
        if self.aps is not None and self.aps.running:
            self.aps.shutdown(wait=False)
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self.lock.release()

    async def __aenter__(self) -> Scheduler:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


_TICK = timedelta(seconds=1)
