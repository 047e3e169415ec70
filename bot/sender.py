"""The sender: drains the outbox within Telegram's flood limits.

- Overall pace: a token bucket at `send_per_second` with a small burst (a quarter of a
  second's worth: enough to make up for a busy event loop's stalls, small enough that
  requests bunched up by network delays stay within Telegram's own bucket).
- Per chat: one message a second in a private chat, `send_group_per_minute` in a group;
  a message whose chat is not ready for a while goes back to the outbox until it is.
- 429: every worker pauses for `retry_after` seconds, then the message is sent again.
- 403: final; the person is marked unreachable and their branch's leaders are told once
  (by the `on_unreachable` callback, which enqueues that notice).
- 5xx, timeouts and network errors: back to the outbox with exponential backoff (capped),
  failed after `send_max_attempts`.
- Other 4xx: failed at once (retrying cannot help).

Rows are claimed in batches (`sending`) and marked sent in batches; a crash leaves the
claimed ones `sending`, and the next sender's start puts them back (see
`bot.services.outbox`). Sending pace uses the monotonic clock (flood limits are physical);
"is it due" uses the injectable `Clock`, so tests move time instead of waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardMarkup, ReplyKeyboardMarkup
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.db.models import Outbox, OutboxStatus
from bot.services import outbox

log = logging.getLogger(__name__)

CHAT_WAIT_IN_PLACE = 5.0  # seconds a worker waits for a chat's turn rather than re-queueing

OnUnreachable = Callable[[AsyncSession, int], Awaitable[None]]


@dataclass(frozen=True)
class SendLimits:
    per_second: float = 30.0
    private_per_second: float = 1.0
    group_per_minute: float = 20.0
    max_attempts: int = 8
    backoff_cap: float = 300.0  # seconds
    concurrency: int = 32
    poll_seconds: float = 0.5  # how often an idle sender looks for work from other processes

    @property
    def batch(self) -> int:
        return max(10, int(self.per_second))


class TokenBucket:
    """`rate` tokens a second, at most `burst` saved up; `take` waits for one."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, max(1.0, burst)
        self.tokens, self.stamp = self.burst, time.monotonic()
        self._lock = asyncio.Lock()

    async def take(self) -> None:
        async with self._lock:  # first come, first served
            while True:
                now = time.monotonic()
                self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
                self.stamp = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                await asyncio.sleep((1 - self.tokens) / self.rate)


@dataclass
class SenderStats:
    sent: int = 0
    retry_after: int = 0  # 429s received
    retried: int = 0  # 5xx/network errors put back for later
    failed: int = 0
    unreachable: int = 0
    started: float = field(default_factory=time.monotonic)
    first_sent: float = 0.0  # monotonic times of the first and the latest message sent
    last_sent: float = 0.0

    def rate(self) -> float:
        """Messages a second between the first and the latest one sent."""
        span = self.last_sent - self.first_sent
        return (self.sent - 1) / span if self.sent > 1 and span > 0 else 0.0


def _markup(data: dict | None):
    if not data:
        return None
    if "inline_keyboard" in data:
        return InlineKeyboardMarkup.model_validate(data)
    return ReplyKeyboardMarkup.model_validate(data)


class Sender:
    def __init__(
        self,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        limits: SendLimits | None = None,
        on_unreachable: OnUnreachable | None = None,
    ) -> None:
        self.bot = bot
        self.sessions = sessions
        self.clock = clock
        self.limits = limits or SendLimits()
        self.on_unreachable = on_unreachable
        self.stats = SenderStats()
        self._bucket = TokenBucket(self.limits.per_second, self.limits.per_second / 4)
        self._paused_until = 0.0
        self._next_ok: dict[int, float] = {}
        self._sent: list[int] = []
        self._wake = asyncio.Event()
        self._queue: asyncio.Queue[Outbox] = asyncio.Queue(maxsize=2 * self.limits.batch)
        self._busy = 0  # workers holding a message
        self._closing = asyncio.Event()
        self._flush_lock = asyncio.Lock()
        self.idle = asyncio.Event()  # set whenever nothing is ready, claimed or unflushed

    def wake(self) -> None:
        self._wake.set()

    # ------------------------------------------------------------------ the loop

    async def run(self, stop: asyncio.Event) -> None:
        async with self.sessions() as session:
            released = await outbox.release_in_flight(session)
            await session.commit()
        if released:
            log.warning("outbox: %d messages were in flight when the last sender stopped", released)
        outbox.add_waker(self.wake)
        workers = [asyncio.create_task(self._worker()) for _ in range(self.limits.concurrency)]
        flusher = asyncio.create_task(self._flusher())
        try:
            await self._claimer(stop)
            await self._queue.join()  # let what was claimed go out before stopping
        finally:
            outbox.remove_waker(self.wake)
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            self._closing.set()  # the flusher ends after the flush it may be in
            await asyncio.gather(flusher, return_exceptions=True)
            await self._flush()

    async def _claimer(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._wake.clear()
            try:
                async with self.sessions() as session:
                    rows = await outbox.claim(session, self.clock.now(), self.limits.batch)
                    if rows:  # an idle look writes nothing
                        await session.commit()
            except Exception as exc:
                # The database is away: nothing was claimed; look again in a moment.
                log.warning("outbox: cannot claim messages (%s)", type(exc).__name__)
                rows = []
            if rows:
                self.idle.clear()
                for row in rows:
                    await self._queue.put(row)
                continue
            if self._queue.empty() and not self._busy:
                await self._flush()
                self.idle.set()
            waiter = asyncio.create_task(self._wake.wait())
            stopper = asyncio.create_task(stop.wait())
            await asyncio.wait(
                {waiter, stopper},
                timeout=self.limits.poll_seconds,
                return_when=asyncio.FIRST_COMPLETED,
            )
            waiter.cancel()
            stopper.cancel()

    async def _worker(self) -> None:
        while True:
            row = await self._queue.get()
            self._busy += 1
            try:
                await self._deliver(row)
            except Exception:
                # A bug must not stop the sender; the row stays `sending` and is retried
                # at the next start.
                log.exception("outbox: message %s could not be handled", row.id)
            finally:
                self._busy -= 1
                self._queue.task_done()

    async def _flusher(self) -> None:
        while not self._closing.is_set():
            # Its nap ends when the sender stops: a stop need not wait out the 0.2 s.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.2):
                    await self._closing.wait()
            await self._flush()

    async def _flush(self) -> None:
        # One at a time: "idle" must mean that every sent message is marked sent.
        async with self._flush_lock:
            if not self._sent:
                return
            ids, self._sent = self._sent, []
            try:
                async with self.sessions() as session:
                    await outbox.mark_sent(session, self.clock.now(), ids)
                    await session.commit()
            except BaseException as exc:
                # Kept for the next flush; if the process dies first they count as in flight.
                self._sent = ids + self._sent
                if not isinstance(exc, Exception):
                    raise
                log.warning("outbox: cannot mark messages sent (%s)", type(exc).__name__)

    # ------------------------------------------------------------------ one message

    def _chat_wait(self, chat_id: int) -> float:
        """Reserve the chat's next slot; returns how long until it."""
        gap = (
            1 / self.limits.private_per_second if chat_id > 0 else 60 / self.limits.group_per_minute
        )
        now = time.monotonic()
        slot = max(now, self._next_ok.get(chat_id, 0.0))
        self._next_ok[chat_id] = slot + gap
        if len(self._next_ok) > 50_000:
            self._next_ok = {c: t for c, t in self._next_ok.items() if t > now}
        return slot - now

    async def _paused(self) -> None:
        # A later 429 can push the pause further while this one waits.
        while (wait := self._paused_until - time.monotonic()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(wait)

    async def _deliver(self, row: Outbox) -> None:
        wait = self._chat_wait(row.chat_id)
        if wait > CHAT_WAIT_IN_PLACE:
            # A long queue for one chat (a group): back to the outbox until its turn, so
            # the workers serve everyone else meanwhile.
            await self._later(row, wait, row.attempts, None)
            return
        if wait > 0:
            await asyncio.sleep(wait)
        while True:
            await self._paused()
            await self._bucket.take()
            try:
                await self._send(row)
            except TelegramRetryAfter as exc:
                # The only right answer: everyone waits as long as Telegram says.
                self.stats.retry_after += 1
                until = time.monotonic() + exc.retry_after
                self._paused_until = max(self._paused_until, until)
                log.warning("outbox: flood limit, pausing %s s", exc.retry_after)
                continue
            except TelegramForbiddenError:
                await self._unreachable(row)
                return
            except (TelegramServerError, TelegramNetworkError) as exc:
                await self._retry(row, type(exc).__name__)
                return
            except TelegramAPIError as exc:
                self.stats.failed += 1
                await self._final(row, OutboxStatus.failed, exc.message)
                return
            self._sent.append(row.id)
            stats = self.stats
            stats.sent += 1
            stats.last_sent = time.monotonic()
            stats.first_sent = stats.first_sent or stats.last_sent
            return

    async def _send(self, row: Outbox) -> None:
        markup = _markup(row.markup)
        if row.file_kind == "photo":
            await self.bot.send_photo(
                row.chat_id, row.file_id, caption=row.text or None, reply_markup=markup
            )
        elif row.file_kind == "document":
            await self.bot.send_document(
                row.chat_id, row.file_id, caption=row.text or None, reply_markup=markup
            )
        else:
            await self.bot.send_message(row.chat_id, row.text, reply_markup=markup)

    async def _retry(self, row: Outbox, error: str) -> None:
        attempts = row.attempts + 1
        if attempts >= self.limits.max_attempts:
            self.stats.failed += 1
            await self._final(row, OutboxStatus.failed, error, attempts)
            return
        self.stats.retried += 1
        delay = min(self.limits.backoff_cap, 2.0 ** (attempts - 1))
        log.warning("outbox: message %s failed (%s), retrying in %s s", row.id, error, delay)
        await self._later(row, delay, attempts, error)

    async def _later(self, row: Outbox, seconds: float, attempts: int, error: str | None) -> None:
        async with self.sessions() as session:
            when = self.clock.now() + timedelta(seconds=seconds)
            await outbox.mark_later(session, row.id, when, attempts, error)
            await session.commit()

    async def _final(
        self, row: Outbox, status: OutboxStatus, error: str, attempts: int | None = None
    ) -> None:
        async with self.sessions() as session:
            await outbox.mark_final(
                session, row.id, status, row.attempts + 1 if attempts is None else attempts, error
            )
            await session.commit()

    async def _unreachable(self, row: Outbox) -> None:
        self.stats.unreachable += 1
        async with self.sessions() as session:
            await outbox.mark_final(
                session, row.id, OutboxStatus.unreachable, row.attempts + 1, "blocked"
            )
            # A person is marked once (their leaders hear it once); a group (a branch's,
            # which removed the bot) is not a person: its leaders hear of each message lost.
            news = row.chat_id < 0 or await outbox.mark_unreachable(
                session, self.clock.now(), row.chat_id
            )
            if news and self.on_unreachable is not None:
                await self.on_unreachable(session, row.chat_id)
            await session.commit()


@contextlib.asynccontextmanager
async def running(sender: Sender):
    """Run `sender` in the background for the block (tests, the demo, the bench)."""
    stop = asyncio.Event()
    task = asyncio.create_task(sender.run(stop))
    try:
        yield sender
    finally:
        stop.set()
        sender.wake()
        await task
