"""What scheduled jobs are given, how they are registered, and how they tell people.

A feature adds periodic work in two steps (see ARCHITECTURE.md, "The path of a reminder"):

    # in its own module, e.g. bot/scheduler/vanguard.py
    from bot.scheduler.jobs import JobContext, Jobs, remind
    jobs = Jobs()

    @jobs.periodic("vanguard.deadlines")           # hourly by default; cron fields in UTC
    async def deadlines(ctx: JobContext) -> None:
        async with ctx.sessions() as session:
            ...                                    # who has not voted yet, decided by a service
            await remind(ctx, session, ids, key=f"vanguard:{campaign.id}:vote-1d",
                         topic="vanguard", mandatory=True,
                         render=lambda tg: _("The vote closes tomorrow …"))
            await session.commit()

and names the module in `JOB_MODULES` below. Jobs only enqueue (`remind` or
`bot.services.outbox.enqueue`); the sender delivers. A job runs at every tick of its
trigger and decides from `ctx.clock` whether anything is due: the same key twice is one
message, so running again, or catching up after downtime, tells nobody twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import import_module
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.db.models import NotificationPref
from bot.services import outbox, prefs
from bot.services.calendar import QuietHours, deliver_at, parse_quiet_hours
from bot.services.notifications import OPTIONAL_TOPICS
from bot.services.outbox import Envelope
from scoring import FortressRubric

# Modules whose `jobs` the scheduler runs, in this order.
JOB_MODULES = (
    "bot.scheduler.calendar",
    "bot.scheduler.evaluation",
    "bot.scheduler.reports",
    "bot.scheduler.housekeeping",
    "bot.scheduler.mentoring",
)


@dataclass
class JobContext:
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    settings: Settings
    i18n: I18n
    rubric: FortressRubric
    # Occasions this process has sent in full: later ticks within the grace time skip the
    # work (after a restart they run once more, and the dedupe keys keep it at one message).
    done: set[str] = field(default_factory=set)

    @property
    def quiet(self) -> QuietHours | None:
        return parse_quiet_hours(self.settings.quiet_hours)

    @property
    def grace(self) -> timedelta:
        return timedelta(hours=self.settings.reminder_grace_hours)

    def tz_of(self, name: str | None) -> ZoneInfo:
        return ZoneInfo(name) if name else self.settings.tz


JobFunc = Callable[[JobContext], Awaitable[None]]


@dataclass(frozen=True)
class JobSpec:
    id: str  # stable: the scheduler replaces a job with the same id on every start
    func: JobFunc
    cron: dict = field(default_factory=lambda: {"minute": 0})  # CronTrigger fields, UTC


class Jobs:
    """A module's periodic jobs (collected, not started, at import)."""

    def __init__(self) -> None:
        self.specs: list[JobSpec] = []

    def periodic(self, job_id: str, **cron: object) -> Callable[[JobFunc], JobFunc]:
        def register(func: JobFunc) -> JobFunc:
            self.specs.append(JobSpec(job_id, func, dict(cron) or {"minute": 0}))
            return func

        return register


def all_jobs() -> list[JobSpec]:
    specs: list[JobSpec] = []
    for name in JOB_MODULES:
        specs.extend(import_module(name).jobs.specs)
    return specs


async def muted(session: AsyncSession, telegram_ids: Iterable[int], topic: str) -> set[int]:
    ids = list(telegram_ids)
    if not ids or topic not in OPTIONAL_TOPICS:
        return set()
    rows = await session.execute(
        select(NotificationPref.telegram_id).where(
            NotificationPref.topic == topic, NotificationPref.telegram_id.in_(ids)
        )
    )
    return set(rows.scalars())


async def remind(
    ctx: JobContext,
    session: AsyncSession,
    telegram_ids: Iterable[int],
    *,
    key: str,
    topic: str,
    render: Callable[[int], str],
    mandatory: bool = False,
    tz: ZoneInfo | None = None,
    markup: Callable[[int], dict | None] | None = None,
    now: datetime | None = None,
) -> int:
    """Enqueue one reminder per person, in their language, outside quiet hours.

    `key` names the occasion (e.g. "vanguard:12:vote-1d"); each person's message is
    `key:telegram_id`, so the same call twice enqueues nothing new. `render(telegram_id)`
    runs with the person's language active, so `_()` inside it speaks their language.
    Optional topics (`OPTIONAL_TOPICS`) skip people who muted them; mandatory reminders
    say that they cannot be muted. Returns how many were offered to the outbox.
    """
    now = now or ctx.clock.now()
    ids = sorted({i for i in telegram_ids if i is not None})
    skip = set() if mandatory else await muted(session, ids, topic)
    ids = [i for i in ids if i not in skip]
    if not ids:
        return 0
    locales = await prefs.locales_for(session, ids, ctx.settings.default_locale)
    when = deliver_at(now, tz or ctx.settings.tz, ctx.quiet)
    envelopes = []
    with ctx.i18n.context():
        for tg in ids:
            with ctx.i18n.use_locale(locales[tg]):
                text = render(tg)
                if mandatory:
                    text += "\n\n" + _("<i>A mandatory reminder: it cannot be muted.</i>")
                elif topic in OPTIONAL_TOPICS:
                    text += "\n\n" + _("<i>Mute reminders like this one: /notifications</i>")
                envelopes.append(
                    Envelope(
                        chat_id=tg,
                        text=text,
                        key=f"{key}:{tg}",
                        kind=topic,
                        markup=markup(tg) if markup else None,
                        not_before=when,
                    )
                )
    return await outbox.enqueue(session, now, envelopes)
