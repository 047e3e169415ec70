"""The month's reminders. Each job runs hourly and sends what is due in each time zone.

- `calendar.kickoff`: the 1st at `REMINDER_HOUR` local time (next working day), to branch
  leaders: the month's checklist and education content;
- `calendar.outstanding`: `REMINDER_DAYS` (next working day), to leaders of branches with
  open items, listed with points and due dates;
- `calendar.due`: 3 days and 1 day before the month's due date (previous working day), to
  leaders of branches whose items due then are still open;
- `calendar.month_close`: the 1st (close last month) and the 5th (confirm its stars), next
  working day, to the superior's staff with branches to act on.

A job fires for an occasion only within `REMINDER_GRACE_HOURS` after it, and only for the
latest occasion that has come: after downtime, one reminder, never a stale one. Due
warnings move to the *previous* working day, so that a warning still comes before the
due date.
"""

from __future__ import annotations

import html
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Organisation, OrgKind
from bot.i18n import fmt_date, fmt_number
from bot.scheduler.jobs import JobContext, Jobs, remind
from bot.services import reminders
from bot.services.calendar import (
    Occasion,
    at_local,
    last_day,
    latest_due,
    month_key,
    next_workday,
    previous_workday,
)
from bot.services.reminders import Leaders, OpenItem

jobs = Jobs()

MAX_LISTED = 12  # items listed in one reminder; the rest are counted


def _previous_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:])
    return f"{year - 1:04d}-12" if mon == 1 else f"{year:04d}-{mon - 1:02d}"


async def branch_zones(ctx: JobContext, session: AsyncSession) -> list[ZoneInfo]:
    """The time zones branches live in (the default for those that name none)."""
    names = (
        await session.execute(
            select(Organisation.timezone)
            .distinct()
            .where(Organisation.kind == OrgKind.branch.value, Organisation.timezone.is_not(None))
        )
    ).scalars()
    zones = {ctx.settings.timezone, *names}
    return [ZoneInfo(z) for z in sorted(zones)]


async def _leaders_in(ctx: JobContext, session: AsyncSession, tz: ZoneInfo) -> list[Leaders]:
    default = ctx.settings.timezone
    return [
        group
        for group in await reminders.branches_with_leaders(session)
        if (group.branch.timezone or default) == tz.key
    ]


def _due(ctx: JobContext, occasions: list[Occasion], now: datetime) -> Occasion | None:
    return latest_due(occasions, now, ctx.grace)


def _month_of(now: datetime, tz: ZoneInfo) -> tuple[str, int, int]:
    local = now.astimezone(tz).date()
    return month_key(local), local.year, local.month


def _locale() -> str:
    return get_i18n().current_locale


def _item_line(item: OpenItem) -> str:
    locale = _locale()
    name = item.name_zh if locale == "zh_Hans" else item.name_en
    return _("• {name} — {earned} of {points} points, due {date}").format(
        name=html.escape(name),
        earned=fmt_number(item.earned, locale),
        points=fmt_number(item.points, locale),
        date=fmt_date(item.due, locale),
    )


def _item_lines(items: list[OpenItem]) -> list[str]:
    lines = [_item_line(i) for i in items[:MAX_LISTED]]
    if len(items) > MAX_LISTED:
        lines.append(_("… and {n} more.").format(n=len(items) - MAX_LISTED))
    return lines


# ---------------------------------------------------------------- monthly kickoff


def kickoff_occasion(ctx: JobContext, year: int, mon: int, tz: ZoneInfo) -> Occasion:
    day = next_workday(date(year, mon, 1))
    return Occasion(f"{year:04d}-{mon:02d}:kickoff", at_local(day, ctx.settings.reminder_hour, tz))


@jobs.periodic("calendar.kickoff")
async def kickoff(ctx: JobContext) -> None:
    now = ctx.clock.now()
    async with ctx.sessions() as session:
        for tz in await branch_zones(ctx, session):
            month, year, mon = _month_of(now, tz)
            occasion = _due(ctx, [kickoff_occasion(ctx, year, mon, tz)], now)
            if occasion is None or f"{tz.key}:{occasion.name}" in ctx.done:
                continue
            leaders = await _leaders_in(ctx, session, tz)
            branches = [group.branch for group in leaders]
            lists = await reminders.checklists(session, ctx.rubric, branches, month)
            content = await reminders.month_content(session, month, branches)
            for group in leaders:
                branch = group.branch

                def render(_tg: int, branch=branch, month=month, lists=lists, content=content):
                    items = lists.get(branch.id, [])
                    lines = [
                        _("📅 <b>{month}</b> has begun for {branch}.").format(
                            month=month, branch=html.escape(branch.name)
                        ),
                        _("This month's checklist ({n} items):").format(n=len(items)),
                        *_item_lines(items),
                    ]
                    offered = content.get(branch.id, [])
                    if offered:
                        lines += ["", _("This month's education material:")]
                        for c in offered:
                            title = html.escape(c.title)
                            if c.url:
                                title = f'<a href="{html.escape(c.url)}">{title}</a>'
                            lines.append(f"• {title}")
                    lines += ["", _("/month shows the checklist and lets you record what is done.")]
                    return "\n".join(lines)

                await remind(
                    ctx,
                    session,
                    group.telegram_ids,
                    key=f"kickoff:{month}:{branch.id}",
                    topic="kickoff",
                    render=render,
                    tz=tz,
                    now=now,
                )
            await session.commit()
            ctx.done.add(f"{tz.key}:{occasion.name}")


# ---------------------------------------------------------------- open items and due dates


def outstanding_occasions(ctx: JobContext, year: int, mon: int, tz: ZoneInfo) -> list[Occasion]:
    hour = ctx.settings.reminder_hour
    return [
        Occasion(
            f"{year:04d}-{mon:02d}:open-{d:02d}",
            at_local(next_workday(date(year, mon, d)), hour, tz),
        )
        for d in ctx.settings.reminder_days
    ]


def due_occasions(ctx: JobContext, year: int, mon: int, tz: ZoneInfo) -> list[Occasion]:
    due = last_day(year, mon)
    hour = ctx.settings.reminder_hour
    return [
        Occasion(
            f"{year:04d}-{mon:02d}:due-{days}",
            at_local(previous_workday(due - timedelta(days=days)), hour, tz),
        )
        for days in (3, 1)
    ]


@jobs.periodic("calendar.outstanding")
async def outstanding(ctx: JobContext) -> None:
    now = ctx.clock.now()
    async with ctx.sessions() as session:
        for tz in await branch_zones(ctx, session):
            month, year, mon = _month_of(now, tz)
            occasion = _due(ctx, outstanding_occasions(ctx, year, mon, tz), now)
            if occasion is None:
                continue
            # A due-date warning the same day says it already.
            if any(o.at.date() == occasion.at.date() for o in due_occasions(ctx, year, mon, tz)):
                continue
            await _remind_open(ctx, session, tz, month, occasion, None, now)


@jobs.periodic("calendar.due")
async def due_warnings(ctx: JobContext) -> None:
    now = ctx.clock.now()
    async with ctx.sessions() as session:
        for tz in await branch_zones(ctx, session):
            month, year, mon = _month_of(now, tz)
            occasion = _due(ctx, due_occasions(ctx, year, mon, tz), now)
            if occasion is not None:
                await _remind_open(ctx, session, tz, month, occasion, last_day(year, mon), now)


async def _remind_open(
    ctx: JobContext,
    session: AsyncSession,
    tz: ZoneInfo,
    month: str,
    occasion: Occasion,
    due: date | None,
    now: datetime,
) -> None:
    done = f"{tz.key}:{occasion.name}"
    if done in ctx.done:
        return  # this process has sent it already; later ticks in the grace time skip it
    leaders = await _leaders_in(ctx, session, tz)
    lists = await reminders.checklists(session, ctx.rubric, [g.branch for g in leaders], month)
    for group in leaders:
        left = reminders.still_open(lists.get(group.branch.id, []), due)
        if not left:
            continue
        branch = group.branch

        def render(_tg: int, branch=branch, left=left) -> str:
            if due is None:
                head = _("⏰ {branch}: {n} items of this month's checklist are still open:")
            else:
                head = _("⚠️ {branch}: {n} items are due on {date} and still open:")
            lines = [
                head.format(
                    branch=html.escape(branch.name),
                    n=len(left),
                    date=fmt_date(due, _locale()) if due else "",
                ),
                *_item_lines(left),
                "",
                _("/month shows the checklist and lets you record what is done."),
            ]
            return "\n".join(lines)

        await remind(
            ctx,
            session,
            group.telegram_ids,
            key=f"{occasion.name}:{branch.id}",
            topic="outstanding" if due is None else "due",
            render=render,
            tz=tz,
            now=now,
        )
    await session.commit()
    ctx.done.add(done)


# ---------------------------------------------------------------- month close (staff)


def close_occasions(ctx: JobContext, year: int, mon: int, tz: ZoneInfo) -> list[Occasion]:
    hour = ctx.settings.reminder_hour
    return [
        Occasion(
            f"{year:04d}-{mon:02d}:{what}", at_local(next_workday(date(year, mon, day)), hour, tz)
        )
        for what, day in (("close", 1), ("confirm", 5))
    ]


@jobs.periodic("calendar.month_close")
async def month_close(ctx: JobContext) -> None:
    """In each staff member's own time zone (their committee's, else the default)."""
    now = ctx.clock.now()
    async with ctx.sessions() as session:
        zones = await reminders.staff_zones(session)
    by_zone: dict[str, set[int]] = {}
    for tg, zone in zones.items():
        by_zone.setdefault(ctx.tz_of(zone).key, set()).add(tg)
    for key in sorted(by_zone):
        await _month_close_in(ctx, now, ZoneInfo(key), by_zone[key])


async def _month_close_in(ctx: JobContext, now: datetime, tz: ZoneInfo, people: set[int]) -> None:
    month, year, mon = _month_of(now, tz)
    previous = _previous_month(month)
    # Two reminders of their own: a holiday can put both on the same day.
    for occasion in close_occasions(ctx, year, mon, tz):
        done = f"{tz.key}:{occasion.name}"
        if _due(ctx, [occasion], now) is None or done in ctx.done:
            continue
        confirm = occasion.name.endswith(":confirm")
        async with ctx.sessions() as session:
            staff = await reminders.staff_with_open_months(session, previous, unconfirmed=confirm)
            for tg, n in staff.items():
                if tg not in people:
                    continue

                def render(_tg: int, n=n, confirm=confirm) -> str:
                    if confirm:
                        text = _(
                            "⭐ {n} branches under you have a proposed star level for {period} "
                            "waiting for your confirmation: /stars {period}"
                        )
                    else:
                        text = _(
                            "🗓 {period} is over and {n} branches under you are not closed yet: "
                            "/stars {period} closes the month and proposes their star levels."
                        )
                    return text.format(n=n, period=previous)

                await remind(
                    ctx,
                    session,
                    [tg],
                    key=occasion.name,
                    topic="month_close",
                    render=render,
                    tz=tz,
                    now=now,
                )
            await session.commit()
        ctx.done.add(done)


# ---------------------------------------------------------------- a member became unreachable


async def tell_unreachable(ctx: JobContext, session: AsyncSession, telegram_id: int) -> None:
    """The branch's leaders hear once that the bot can no longer reach one of theirs, and
    each time a message to the branch's group could not be posted."""
    if telegram_id < 0:
        await _tell_group_lost(ctx, session, telegram_id)
        return
    found = await reminders.member_and_leaders(session, telegram_id)
    if found is None:
        return
    member, branch, leaders = found
    now = ctx.clock.now()

    def render(_tg: int) -> str:
        return _(
            "📵 I can no longer reach {name} ({branch}): they blocked the bot or left "
            "Telegram. They will get messages again once they write to me."
        ).format(name=html.escape(member.name), branch=html.escape(branch.name))

    await remind(
        ctx,
        session,
        leaders,
        key=f"unreachable:{telegram_id}:{now:%Y%m%d%H%M%S}",
        topic="unreachable",
        render=render,
        tz=ctx.tz_of(branch.timezone),
        now=now,
    )


async def _tell_group_lost(ctx: JobContext, session: AsyncSession, chat_id: int) -> None:
    found = await reminders.group_and_leaders(session, chat_id)
    if found is None:
        return
    branch, leaders = found
    now = ctx.clock.now()

    def render(_tg: int) -> str:
        return _(
            "📵 I could not post in the group of {branch}: I was removed from it or it no "
            "longer exists. Add me to the group again and send /linkgroup there."
        ).format(branch=html.escape(branch.name))

    await remind(
        ctx,
        session,
        leaders,
        key=f"group-lost:{chat_id}:{now:%Y%m%d%H%M%S}",
        topic="unreachable",
        render=render,
        tz=ctx.tz_of(branch.timezone),
        now=now,
    )
