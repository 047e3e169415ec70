"""Flood control: Telegram's message limits as token buckets.

About 30 messages per second overall, 1 per second in a private chat (with a small burst)
and 20 per minute in a group. A request over a limit gets 429 with ``retry_after``, the
whole seconds until the bucket has a token again. Only message-sending methods count.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import Any

from .errors import bad_request, too_many_requests


@dataclass(slots=True)
class FloodConfig:
    enabled: bool = True
    global_per_second: float = 30.0
    global_burst: float = 30.0
    private_per_second: float = 1.0
    private_burst: float = 3.0
    group_per_minute: float = 20.0
    group_burst: float = 20.0

    def update(self, changes: dict[str, Any]) -> None:
        known = {f.name: f.type for f in fields(self)}
        for name, value in changes.items():
            if name not in known:
                raise bad_request(f'unknown flood setting "{name}"')
            if name == "enabled":
                if not isinstance(value, bool):
                    raise bad_request('flood setting "enabled" must be a Boolean')
            elif isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise bad_request(f'flood setting "{name}" must be a positive number')
            setattr(self, name, value)

    def to_api(self) -> dict[str, Any]:
        return asdict(self)


class _Bucket:
    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate, self.burst, self.tokens, self.stamp = rate, burst, burst, now

    def wait_time(self, now: float) -> float:
        """Seconds until a token is available (0 if one is available now)."""
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


class FloodControl:
    def __init__(self, config: FloodConfig, clock: Callable[[], float] = time.monotonic):
        self.config = config
        self.clock = clock
        self.reset()

    def reset(self) -> None:
        self._global: _Bucket | None = None
        self._chats: dict[int, _Bucket] = {}

    def check(self, chat_id: int, is_private: bool) -> None:
        """Take one message token for ``chat_id`` or raise 429."""
        cfg = self.config
        if not cfg.enabled:
            return
        now = self.clock()
        if self._global is None:
            self._global = _Bucket(cfg.global_per_second, cfg.global_burst, now)
        chat = self._chats.get(chat_id)
        if chat is None:
            if is_private:
                chat = _Bucket(cfg.private_per_second, cfg.private_burst, now)
            else:
                chat = _Bucket(cfg.group_per_minute / 60, cfg.group_burst, now)
            self._chats[chat_id] = chat
        wait = max(self._global.wait_time(now), chat.wait_time(now))
        if wait > 0:
            raise too_many_requests(max(1, math.ceil(wait)))
        self._global.tokens -= 1
        chat.tokens -= 1
