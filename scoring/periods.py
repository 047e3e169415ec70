"""Period keys and windows.

A branch is scored for a month (``"2026-07"``). An item whose period is longer than a
month is judged on its *window*: from the first month of the quarter, half-year or
year that contains the scored month up to and including that month. Months are kept
as ``"YYYY-MM"`` strings because they sort in time order and come straight out of SQL
(``strftime('%Y-%m', …)`` / ``to_char(…, 'YYYY-MM')``).
"""

from __future__ import annotations

import calendar
from datetime import date
from enum import StrEnum


class Period(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    HALF = "half"
    YEAR = "year"


_MONTHS_IN = {Period.MONTH: 1, Period.QUARTER: 3, Period.HALF: 6, Period.YEAR: 12}


def parse_month(month: str) -> tuple[int, int]:
    """``"2026-07"`` → ``(2026, 7)``; raises ``ValueError`` on anything else."""
    year_s, sep, month_s = month.partition("-")
    if not sep or len(year_s) != 4 or len(month_s) != 2:
        raise ValueError(f"not a YYYY-MM month: {month!r}")
    year, mon = int(year_s), int(month_s)
    if not 1 <= mon <= 12:
        raise ValueError(f"not a YYYY-MM month: {month!r}")
    return year, mon


def month_key(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def month_of(day: date) -> str:
    return month_key(day.year, day.month)


def window(month: str, period: Period) -> tuple[str, str]:
    """First month of ``period`` containing ``month``, and ``month`` itself."""
    year, mon = parse_month(month)
    size = _MONTHS_IN[period]
    first = (mon - 1) // size * size + 1
    return month_key(year, first), month


def period_bounds(month: str, period: Period) -> tuple[str, str]:
    """First and last month of the ``period`` that contains ``month``."""
    year, mon = parse_month(month)
    size = _MONTHS_IN[period]
    first = (mon - 1) // size * size + 1
    return month_key(year, first), month_key(year, first + size - 1)


def period_key(month: str, period: Period) -> str:
    """A stable label: ``2026-07``, ``2026-Q3``, ``2026-H2``, ``2026``."""
    year, mon = parse_month(month)
    if period is Period.MONTH:
        return month_key(year, mon)
    if period is Period.QUARTER:
        return f"{year:04d}-Q{(mon - 1) // 3 + 1}"
    if period is Period.HALF:
        return f"{year:04d}-H{(mon - 1) // 6 + 1}"
    return f"{year:04d}"


def due_date(month: str, period: Period) -> date:
    """Last day of the ``period`` containing ``month``: when its items fall due."""
    year, last = parse_month(period_bounds(month, period)[1])
    return date(year, last, calendar.monthrange(year, last)[1])


def months_between(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last`` inclusive (empty if ``first > last``)."""
    year, mon = parse_month(first)
    out: list[str] = []
    while (key := month_key(year, mon)) <= last:
        out.append(key)
        year, mon = (year + 1, 1) if mon == 12 else (year, mon + 1)
    return out


def is_period_end(month: str, period: Period) -> bool:
    """True when ``month`` closes its ``period``: the month a scheme rates in."""
    return period_bounds(month, period)[1] == month
