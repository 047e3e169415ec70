"""Moving a FixedClock through days of scheduler ticks without running all of them.

Every reminder job fires for the latest occasion that has come and is still within its
grace time (`bot.services.calendar.latest_due`, 12 hours by default; the downtime and
restart tests in tests/integration/test_calendar.py prove it). So a reminder a bug put
at an hour the sweep skips still shows, at the next tick, as one on a wrong hour: a
sweep needs every hour only where a test asserts the hour, and elsewhere ticks closer
together than the grace time. The sweeps of a month cost 2-3 times less that way.
"""

from __future__ import annotations

from collections.abc import Container, Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

HOUR = timedelta(hours=1)


def ticks(
    start: datetime, end: datetime, tz: ZoneInfo, hourly: Container[int], every: int = 4
) -> Iterator[datetime]:
    """Whole hours from `start` up to `end` (both included): each hour whose local hour
    is in `hourly`, and every `every`-th local hour (0, `every`, 2×`every`, …) besides."""
    assert every < 12, "ticks must come closer together than the reminders' grace time"
    at = start
    while at <= end:
        hour = at.astimezone(tz).hour
        if hour in hourly or hour % every == 0:
            yield at
        at += HOUR
