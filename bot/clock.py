"""The one source of time. Tests pass a FixedClock and move it instead of sleeping."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo


class Clock:
    def __init__(self, tz: ZoneInfo | str = "Asia/Shanghai") -> None:
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz

    def now(self) -> datetime:
        """Aware 'now' in UTC."""
        return datetime.now(UTC)

    def local_now(self) -> datetime:
        return self.now().astimezone(self.tz)

    def today(self):
        return self.local_now().date()


@dataclass
class FixedClock(Clock):
    at: datetime = field(default_factory=lambda: datetime(2026, 7, 15, 2, 0, tzinfo=UTC))
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))

    def now(self) -> datetime:
        return self.at

    def advance(self, **kwargs: float) -> None:
        self.at = self.at + timedelta(**kwargs)


class OffsetClock(Clock):
    """Real time moved by an offset: the demo's clock, which can be fast-forwarded."""

    def __init__(self, tz: ZoneInfo | str = "Asia/Shanghai") -> None:
        super().__init__(tz)
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def jump_to(self, when: datetime) -> None:
        """Never backwards: what was sent stays sent."""
        self.offset = max(self.offset, when - datetime.now(UTC))
