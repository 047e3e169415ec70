"""The bot's update queue, read by long polling (getUpdates) or pushed to a webhook.

As on Telegram, an update stays queued until it is confirmed: by a later getUpdates
with a higher ``offset``, or by a 2xx answer from the webhook. ``allowed_updates``
filters updates when they are created, and is kept until a call changes it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from .errors import POLLING_CONFLICT, WEBHOOK_ACTIVE, ApiError, bad_request
from .events import EventHub

log = logging.getLogger(__name__)

# Telegram leaves these out unless they are asked for explicitly
_OPT_IN_TYPES = {"chat_member", "message_reaction", "message_reaction_count"}


@dataclass(slots=True)
class Webhook:
    url: str
    secret_token: str | None = None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None


class UpdateQueue:
    def __init__(self, hub: EventHub) -> None:
        self.hub = hub
        self.pending: list[dict[str, Any]] = []
        self.allowed: set[str] | None = None
        self.webhook: Webhook | None = None
        # ids start at random like Telegram's, so nobody relies on them starting at 1
        self.next_id = random.randint(10_000, 900_000_000)
        self._poller = 0

    def push(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        if not self._wanted(kind):
            return None
        update = {"update_id": self.next_id, kind: payload}
        self.next_id += 1
        self.pending.append(update)
        self.hub.notify()
        return update

    def _wanted(self, kind: str) -> bool:
        if not self.allowed:
            return kind not in _OPT_IN_TYPES
        return kind in self.allowed

    def set_allowed(self, allowed: list[str] | None) -> None:
        if allowed is not None:
            self.allowed = set(allowed)

    def confirm_below(self, offset: int) -> None:
        self.pending = [u for u in self.pending if u["update_id"] >= offset]

    def clear(self) -> None:
        self.pending.clear()

    async def get_updates(
        self, offset: int | None, limit: int, wait: float, allowed: list[str] | None
    ) -> list[dict[str, Any]]:
        if self.webhook is not None:
            raise ApiError(409, WEBHOOK_ACTIVE)
        if not 1 <= limit <= 100:
            limit = 100
        self.set_allowed(allowed)
        if offset is not None:
            if offset < 0:
                self.pending = self.pending[offset:]
            else:
                self.confirm_below(offset)
        self._poller += 1
        me = self._poller
        self.hub.notify()  # wakes an older poller so it can step aside
        superseded = False

        def ready() -> list[dict[str, Any]] | bool:
            nonlocal superseded
            if self._poller != me:
                superseded = True
                return True
            return self.pending[:limit]

        result = await self.hub.wait_for(ready, max(0.0, min(wait, 50.0)))
        if superseded:
            raise ApiError(409, POLLING_CONFLICT)
        return result or []


ExecuteCall = Callable[[str, dict[str, Any]], Awaitable[Any]]


class WebhookSender:
    """Pushes queued updates to the webhook, up to `max_connections` at a time, retrying.

    As Telegram does, several updates are in flight at once (the bot answers each POST
    at once and handles it in the background, so one at a time would cap a deployment at
    one round trip per update, whatever its number of workers). One person's updates
    still go one after the other: the next is sent once the last one was accepted, so a
    redelivered update is never overtaken by its sender's next one. A failed delivery
    pauses every delivery, doubling the pause up to 5 s.
    """

    def __init__(self, queue: UpdateQueue, execute: ExecuteCall, retry_delay: float) -> None:
        self.queue = queue
        self.execute = execute
        self.retry_delay = retry_delay
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._flying: dict[int, asyncio.Task[None]] = {}  # update_id → its delivery
        self._busy: set[Any] = set()  # senders with an update in flight
        self._delay = retry_delay
        self._paused_until = 0.0

    def set(self, webhook: Webhook, drop_pending: bool) -> None:
        if not webhook.url.startswith(("http://", "https://")):
            raise bad_request("bad webhook: Wrong HTTP URL specified")
        if drop_pending:
            self.queue.clear()
        self.queue.webhook = webhook
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        self.queue.hub.notify()

    def delete(self, drop_pending: bool) -> None:
        self.queue.webhook = None
        if drop_pending:
            self.queue.clear()
        self.queue.hub.notify()

    async def close(self) -> None:
        tasks = [t for t in (self._task, *self._flying.values()) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._task = None
        self._flying.clear()
        self._busy.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _next(self) -> dict[str, Any] | None:
        """The oldest update that may go now, if any."""
        webhook = self.queue.webhook
        if webhook is None or len(self._flying) >= webhook.max_connections:
            return None
        if time.monotonic() < self._paused_until:
            return None
        for update in self.queue.pending:
            if update["update_id"] not in self._flying and _sender(update) not in self._busy:
                return update
        return None

    async def _run(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        queue = self.queue
        while True:
            paused = self._paused_until  # a new pause (a failed delivery) wakes the loop
            wait = max(0.0, paused - time.monotonic()) or 3600
            await queue.hub.wait_for(
                lambda paused=paused: (
                    queue.webhook is None or self._paused_until != paused or self._next()
                ),
                wait,
            )
            webhook = queue.webhook
            if webhook is None or queue.hub.closing:
                return
            update = self._next()
            if update is None:
                continue
            sender = _sender(update)
            self._busy.add(sender)
            task = asyncio.get_running_loop().create_task(self._send(webhook, update, sender))
            self._flying[update["update_id"]] = task

    async def _send(self, webhook: Webhook, update: dict[str, Any], sender: Any) -> None:
        try:
            error = await self._deliver(webhook, update)
        finally:
            self._flying.pop(update["update_id"], None)
            self._busy.discard(sender)
        if error is None:
            if update in self.queue.pending:
                self.queue.pending.remove(update)
            self._delay = self.retry_delay
        else:
            webhook.last_error_date = int(time.time())
            webhook.last_error_message = error
            self._paused_until = time.monotonic() + self._delay
            self._delay = min(self._delay * 2, 5.0)
        self.queue.hub.notify()

    async def _deliver(self, webhook: Webhook, update: dict[str, Any]) -> str | None:
        headers = {"Content-Type": "application/json"}
        if webhook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = webhook.secret_token
        assert self._session is not None
        try:
            async with self._session.post(
                webhook.url, data=json.dumps(update), headers=headers
            ) as resp:
                if not 200 <= resp.status < 300:
                    return f"Wrong response from the webhook: {resp.status} {resp.reason}"
                reply = await _read_reply(resp)
        except (aiohttp.ClientError, TimeoutError) as exc:
            return f"Connection failed: {type(exc).__name__}"
        if reply is not None:
            method = reply.pop("method")
            try:
                await self.execute(method, reply)
            except ApiError as exc:
                log.warning("method in webhook reply failed: %s", exc.description)
        return None


def _sender(update: dict[str, Any]) -> Any:
    """Whose update it is: its sender (or its chat), the unit of ordering."""
    for value in update.values():
        if isinstance(value, dict):
            who = value.get("from") or value.get("chat") or value.get("user")
            if isinstance(who, dict) and "id" in who:
                return who["id"]
    return None


async def _read_reply(resp: aiohttp.ClientResponse) -> dict[str, Any] | None:
    """A webhook may answer with one method call, as JSON or as form data (aiogram)."""
    reply: dict[str, Any] | None = None
    if resp.content_type == "application/json":
        try:
            reply = json.loads(await resp.read() or b"null")
        except ValueError:
            return None
    elif resp.content_type == "multipart/form-data":
        reply = {}
        reader = aiohttp.MultipartReader.from_response(resp)
        while (part := await reader.next()) is not None:
            reply[part.name or ""] = (await part.read()).decode()  # type: ignore[union-attr]
    else:
        await resp.read()
    if isinstance(reply, dict) and isinstance(reply.get("method"), str):
        return reply
    return None
