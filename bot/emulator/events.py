"""What happened in the emulator, in order: for waiting tests and the browser's live view.

Each event gets a global sequence number. A chat keeps its recent events so a test can
ask "anything after seq N in this chat?" without races: an event published before the
test started waiting is still found. Live subscribers (the browser's SSE stream) get
every event through a bounded queue.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from .models import Chat

_KEEP_PER_CHAT = 2000
Event = dict[str, Any]


class EventHub:
    def __init__(self) -> None:
        self.seq = 0
        self._changed = asyncio.Event()
        self._subscribers: set[asyncio.Queue[Event]] = set()
        self.closing = False
        self._waiting = 0  # callers inside wait_for; nobody to wake when zero

    def publish(self, event: Event, chat: Chat | None = None) -> Event:
        self.seq += 1
        event["seq"] = self.seq
        if chat is not None:
            event["chat_id"] = chat.id
            chat.events.append(event)
            if len(chat.events) > 2 * _KEEP_PER_CHAT:
                del chat.events[:_KEEP_PER_CHAT]
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                # a stalled browser tab must not slow the emulator down; it reconnects
                self._subscribers.discard(queue)
        self.notify()
        return event

    def notify(self) -> None:
        if self._waiting:
            changed, self._changed = self._changed, asyncio.Event()
            changed.set()

    async def wait_for(self, check: Callable[[], Any], seconds: float) -> Any:
        """Wait until ``check()`` returns something truthy, or ``seconds`` pass."""
        deadline = time.monotonic() + seconds
        while not (result := check()) and not self.closing:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return result
            changed = self._changed
            self._waiting += 1
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                return check()
            finally:
                self._waiting -= 1
        return result

    def subscribe(self) -> asyncio.Queue[Event]:
        queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=1000)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Event]) -> None:
        self._subscribers.discard(queue)

    def close(self) -> None:
        """Release every waiter and live stream so the server can stop at once."""
        self.closing = True
        for queue in self._subscribers:
            if not queue.full():
                queue.put_nowait({"type": "closing"})
        self._subscribers.clear()
        self.notify()

    def is_subscribed(self, queue: asyncio.Queue[Event]) -> bool:
        return queue in self._subscribers


def events_after(chat: Chat, after: int) -> list[Event]:
    events = chat.events
    index = len(events)
    while index > 0 and events[index - 1]["seq"] > after:
        index -= 1
    return events[index:]
