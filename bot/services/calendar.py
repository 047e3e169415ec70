"""Working days, quiet hours and the moments reminders are due.

Working days follow China's public holidays and adjusted working days (the
`chinese_calendar` package). For a year the package does not know yet, weekends alone
count, and a warning is logged once per year so someone updates the package.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.i18n import N_

log = logging.getLogger(__name__)

_unknown_years_warned: set[int] = set()


def is_workday(day: date) -> bool:
    # Imported here: settings validate quiet hours with this module, and every command
    # line call loads settings; only reminders ask about working days.
    import chinese_calendar

    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        if day.year not in _unknown_years_warned:
            _unknown_years_warned.add(day.year)
            log.warning(
                "calendar: no public holidays known for %s; counting weekends only "
                "(update the chinese-calendar package)",
                day.year,
            )
        return day.weekday() < 5


def next_workday(day: date) -> date:
    """`day` itself if it is a working day, else the next one."""
    while not is_workday(day):
        day += timedelta(days=1)
    return day


def previous_workday(day: date) -> date:
    while not is_workday(day):
        day -= timedelta(days=1)
    return day


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time

    def contains(self, at: time) -> bool:
        if self.start <= self.end:
            return self.start <= at < self.end
        return at >= self.start or at < self.end  # spans midnight

    def release(self, local: datetime) -> datetime:
        """`local` itself outside quiet hours, else the moment they end."""
        if not self.contains(local.timetz().replace(tzinfo=None)):
            return local
        end = datetime.combine(local.date(), self.end, tzinfo=local.tzinfo)
        if end <= local:
            end += timedelta(days=1)
        return end


def parse_quiet_hours(value: str | None) -> QuietHours | None:
    """'21:00-08:00' → QuietHours; '' → None (no quiet hours)."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        start, end = (time.fromisoformat(p.strip()) for p in value.split("-"))
    except ValueError:
        raise ValueError(N_("must be HH:MM-HH:MM, e.g. 21:00-08:00")) from None
    if start == end:
        raise ValueError(N_("start and end must differ (leave it empty for no quiet hours)"))
    return QuietHours(start, end)


def deliver_at(now: datetime, tz: ZoneInfo, quiet: QuietHours | None) -> datetime:
    """When a message written at `now` may go out to someone in `tz` (aware UTC)."""
    if quiet is None:
        return now
    return quiet.release(now.astimezone(tz)).astimezone(UTC)


def at_local(day: date, hour: int, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=tz).astimezone(UTC)


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def last_day(year: int, month: int) -> date:
    first_next = date(year + month // 12, month % 12 + 1, 1)
    return first_next - timedelta(days=1)


@dataclass(frozen=True)
class Occasion:
    """A reminder moment: `name` says which (e.g. '2026-10:kickoff'), `at` when (UTC)."""

    name: str
    at: datetime


def latest_due(occasions: list[Occasion], now: datetime, grace: timedelta) -> Occasion | None:
    """The most recent occasion that has come and is still within its grace time.

    Earlier ones are folded into it (coalesced): a scheduler that was down across several
    reminder times sends one reminder, not one per missed time, and none once the grace
    time has passed.
    """
    due = [o for o in occasions if o.at <= now]
    if not due:
        return None
    latest = max(due, key=lambda o: o.at)
    return latest if now - latest.at < grace else None
