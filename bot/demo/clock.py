"""`/clock` in the demo only: fast-forward the demo's clock and run the scheduled jobs, so
the month's reminders can be seen without waiting for them.

    /clock            what time it is for the demo, and how to move it
    /clock next       to the next reminder (kickoff, open items, due dates, evaluation
                      deadlines, mentoring check-ins)
    /clock +3d | +5h  forward by days or hours
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import OffsetClock
from bot.scheduler import evaluation
from bot.scheduler.calendar import due_occasions, kickoff_occasion, outstanding_occasions
from bot.scheduler.mentoring import checkin_occasion
from bot.scheduler.runner import Scheduler

STEP = re.compile(r"^\+(\d{1,3})([dh])$")


async def next_reminder(scheduler: Scheduler, session: AsyncSession, now: datetime) -> datetime:
    ctx = scheduler.ctx
    tz = ctx.settings.tz
    local = now.astimezone(tz)
    months = [(local.year, local.month), (local.year + local.month // 12, local.month % 12 + 1)]
    moments = []
    for year, mon in months:
        moments.append(kickoff_occasion(ctx, year, mon, tz).at)
        moments += [o.at for o in outstanding_occasions(ctx, year, mon, tz)]
        moments += [o.at for o in due_occasions(ctx, year, mon, tz)]
        moments.append(checkin_occasion(ctx, year, mon, tz).at)
    # The update's own session: SQLite's one pooled connection is the update's.
    moments += await evaluation.upcoming(ctx, session, now)
    return min(m for m in moments if m > now) + timedelta(minutes=1)


def clock_router(clock: OffsetClock, scheduler: Scheduler) -> Router:
    router = Router(name="demo-clock")
    running: set[asyncio.Task] = set()

    @router.message(Command("clock"))
    async def move(message: Message, command: CommandObject, session: AsyncSession) -> None:
        arg = (command.args or "").strip()
        now = clock.now()
        if arg == "next":
            clock.jump_to(await next_reminder(scheduler, session, now))
        elif step := STEP.match(arg):
            n, unit = int(step[1]), step[2]
            clock.jump_to(now + (timedelta(days=n) if unit == "d" else timedelta(hours=n)))
        elif arg:
            await message.answer(_("Use /clock next, /clock +3d or /clock +5h."))
            return
        local = clock.now().astimezone(scheduler.ctx.settings.tz).strftime("%Y-%m-%d %H:%M")
        if arg:
            # What the scheduler would have done by now; after this update's own
            # transaction, which holds SQLite's write lock while the handler runs.
            task = asyncio.create_task(scheduler.run_all())
            running.add(task)
            task.add_done_callback(running.discard)
            await message.answer(
                _(
                    "⏩ The demo's clock is now {time}; reminders due by then are on their way."
                ).format(time=local)
            )
            return
        await message.answer(
            _("🕒 The demo's clock says {time}. /clock next jumps to the next reminder.").format(
                time=local
            )
        )

    return router
