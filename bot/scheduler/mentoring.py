"""Paired mentoring's monthly check-in (issue 9: "both get monthly check-in prompts").

On the 20th (the next working day when it is not one) at `REMINDER_HOUR` in the
branch's time zone, the mentored member and the mentor of every pairing of a branch's
latest approved evaluation are each asked whether they met this month, with a button
that records it (`eval_after.record_checkin`); the secretary's mentoring list shows the
latest month confirmed. After downtime one prompt comes, never a stale one; the dedupe
key keeps it at one per person and month.
"""

from __future__ import annotations

import html
from collections import defaultdict
from datetime import date
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _

from bot.scheduler.calendar import branch_zones
from bot.scheduler.jobs import JobContext, Jobs, remind
from bot.services import eval_after
from bot.services.calendar import Occasion, at_local, latest_due, month_key, next_workday

jobs = Jobs()

CHECKIN_DAY = 20


def checkin_occasion(ctx: JobContext, year: int, mon: int, tz: ZoneInfo) -> Occasion:
    day = next_workday(date(year, mon, CHECKIN_DAY))
    at = at_local(day, ctx.settings.reminder_hour, tz)
    return Occasion(f"{year:04d}-{mon:02d}:mentoring", at)


def _button(campaign_id: int, member_id: int, month: str) -> dict:
    from handlers.callbacks import MentorCheck
    from handlers.views import Button, keyboard

    data = MentorCheck(campaign=campaign_id, member=member_id, month=month).pack()
    markup = keyboard([[Button(text=_("✓ Yes, we met this month"), callback_data=data)]])
    return markup.model_dump(mode="json", exclude_none=True)


@jobs.periodic("eval.mentoring")
async def checkins(ctx: JobContext) -> None:
    now = ctx.clock.now()
    async with ctx.sessions() as session:
        # Hourly ticks: the pairings are read only when some time zone's prompt is due.
        due: dict[ZoneInfo, tuple[str, Occasion]] = {}
        for tz in await branch_zones(ctx, session):
            local = now.astimezone(tz).date()
            occasion = latest_due(
                [checkin_occasion(ctx, local.year, local.month, tz)], now, ctx.grace
            )
            if occasion is not None and f"{tz.key}:{occasion.name}" not in ctx.done:
                due[tz] = (month_key(local), occasion)
        if not due:
            return
        by_zone: dict[ZoneInfo, list[eval_after.Pair]] = defaultdict(list)
        for pair in await eval_after.current_pairs(session):
            by_zone[ctx.tz_of(pair.org.timezone)].append(pair)
        for tz, (month, occasion) in due.items():
            for pair in by_zone.get(tz, []):

                def render(tg: int, pair=pair, month=month) -> str:
                    if tg == pair.member.telegram_id:
                        return _(
                            "Paired mentoring, {month}: have you and your mentor {mentor} "
                            "talked this month? Press below once you have."
                        ).format(month=month, mentor=html.escape(pair.mentor.name))
                    return _(
                        "Paired mentoring, {month}: have you and {name}, whom you mentor, "
                        "talked this month? Press below once you have."
                    ).format(month=month, name=html.escape(pair.member.name))

                await remind(
                    ctx,
                    session,
                    [pair.member.telegram_id, pair.mentor.telegram_id],
                    key=f"mentoring:{month}:{pair.campaign_id}:{pair.member.id}",
                    topic="mentoring",
                    render=render,
                    markup=lambda _tg, pair=pair, month=month: _button(
                        pair.campaign_id, pair.member.id, month
                    ),
                    tz=tz,
                    now=now,
                )
            ctx.done.add(f"{tz.key}:{occasion.name}")
        await session.commit()
