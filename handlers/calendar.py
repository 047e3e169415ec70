"""An inline month calendar for picking a date: today by default, no future days."""

from __future__ import annotations

import calendar
from datetime import date

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import get_i18n
from babel.dates import format_skeleton

from bot.i18n import babel_locale
from handlers.callbacks import FIRST_YEAR, LAST_YEAR, Day, Month12, Noop, Press, Word, Year
from handlers.views import Button, keyboard


class Cal(Press, prefix="cl"):
    """act: 'pick' a day (y-m-d), or 'nav' to show month y-m."""

    act: Word
    y: Year
    m: Month12
    d: Day = 0


def _shift(year: int, month: int, by: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + by
    return index // 12, index % 12 + 1


def month_calendar(
    year: int,
    month: int,
    today: date,
    earliest: date | None = None,
    latest: date | bool | None = True,
) -> InlineKeyboardMarkup:
    """The month's grid; days outside [earliest, latest] are shown but inert.

    `latest` defaults to today (a meeting that was held); None lifts the limit (a
    meeting being announced).
    """
    if latest is True:
        latest = today
    locale = babel_locale(get_i18n().current_locale)
    header = format_skeleton("yMMMM", date(year, month, 1), locale=locale)
    noop = Noop().pack()
    rows = [[Button(text=header, callback_data=noop)]]
    days = locale.days["stand-alone"]["narrow"]
    rows.append([Button(text=days[i], callback_data=noop) for i in range(7)])
    for week in calendar.Calendar(firstweekday=0).monthdayscalendar(year, month):
        row = []
        for day in week:
            if day == 0:
                row.append(Button(text=" ", callback_data=noop))
                continue
            value = date(year, month, day)
            usable = (latest is None or value <= latest) and (earliest is None or value >= earliest)
            label = f"[{day}]" if value == today else str(day)
            data = Cal(act="pick", y=year, m=month, d=day).pack() if usable else noop
            row.append(Button(text=label if usable else "·", callback_data=data))
        rows.append(row)
    prev_y, prev_m = _shift(year, month, -1)
    nav = []
    if (earliest is None or date(year, month, 1) > earliest) and prev_y >= FIRST_YEAR:
        nav.append(Button(text="◀", callback_data=Cal(act="nav", y=prev_y, m=prev_m).pack()))
    next_y, next_m = _shift(year, month, 1)
    if (latest is None or date(next_y, next_m, 1) <= latest) and next_y <= LAST_YEAR:
        nav.append(Button(text="▶", callback_data=Cal(act="nav", y=next_y, m=next_m).pack()))
    rows.append(nav)
    return keyboard(rows)


def picked_date(data: Cal) -> date | None:
    """The day a press names, or None when forged (no such day)."""
    try:
        return date(data.y, data.m, data.d)
    except ValueError:
        return None
