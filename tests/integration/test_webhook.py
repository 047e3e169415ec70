"""The webhook: secret checked, duplicates handled once, and nothing secret or personal logged.

The real bot (`make_webhook_app`) runs under aiohttp's test server; its replies go to
the local Bot API emulator, where the test reads them.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiogram import Bot
from aiogram.types import Update
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import WEBHOOK_TASKS, App, build, make_bot, make_webhook_app, sender_key
from bot.clock import Clock
from bot.config import load_settings
from bot.db.models import AuditLog, ProcessedUpdate, UserPref
from bot.emulator import EmulatorConfig, EmulatorServer, FloodConfig
from bot.emulator.client import EmulatorClient, EmuUser

SECRET = "w3bh00k-Secret_value"
HEADER = "X-Telegram-Bot-Api-Secret-Token"
PHONE = "13912345678"


@dataclass
class Hook:
    app: App
    bot: Bot
    web_app: web.Application
    http: TestClient
    emu: EmulatorClient
    token: str
    path: str

    async def post(self, update: dict[str, Any], secret: str | None = SECRET) -> int:
        headers = {HEADER: secret} if secret is not None else {}
        async with self.http.post(self.path, json=update, headers=headers) as resp:
            return resp.status

    async def settle(self) -> None:
        """Wait until every update taken so far has been handled (a condition, not a sleep)."""
        await asyncio.gather(*self.web_app[WEBHOOK_TASKS])

    async def count(self, model) -> int:
        async with self.app.sessions() as s:
            return (await s.execute(select(func.count()).select_from(model))).scalar_one()


@pytest.fixture
async def hook(engine: AsyncEngine) -> AsyncIterator[Hook]:
    server = EmulatorServer(EmulatorConfig(flood=FloodConfig(enabled=False)))
    await server.start()
    settings = load_settings(
        bot_token=server.token,
        telegram_api_base=server.url,
        database_url="sqlite+aiosqlite:///unused.db",  # the engine below is what is used
        webhook_secret=SECRET,
    )
    app = build(settings, clock=Clock(settings.tz), engine=engine)
    bot = make_bot(settings)
    web_app = make_webhook_app(app, bot, settings.require_webhook_secret())
    try:
        async with (
            EmulatorClient(server.url, default_timeout=5.0) as emu,
            TestClient(TestServer(web_app)) as http,
        ):
            yield Hook(app, bot, web_app, http, emu, server.token, settings.webhook_path)
    finally:
        await bot.session.close()
        await app.dispatcher.storage.close()
        await server.stop()


_ids = itertools.count(10_000)


def message_update(user: EmuUser, text: str, update_id: int | None = None) -> dict[str, Any]:
    sender = {"id": user.id, "is_bot": False, "first_name": user.first_name, "language_code": "en"}
    return {
        "update_id": next(_ids) if update_id is None else update_id,
        "message": {
            "message_id": next(_ids),
            "date": int(time.time()),
            "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
            "from": sender,
            "text": text,
        },
    }


async def bot_replies(user: EmuUser) -> int:
    return sum(1 for m in await user.messages() if m.from_bot)


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x", SECRET[:-1]])
async def test_wrong_or_missing_secret_is_refused_and_nothing_written(hook: Hook, secret) -> None:
    user = await hook.emu.create_user("Wang", language_code="en")
    assert await hook.post(message_update(user, "/start"), secret=secret) == 403
    await hook.settle()
    assert not hook.web_app[WEBHOOK_TASKS]
    assert await hook.count(ProcessedUpdate) == 0
    assert await hook.count(AuditLog) == 0
    assert await hook.count(UserPref) == 0
    await user.expect_silence(0.3)


async def test_right_secret_is_handled(hook: Hook) -> None:
    user = await hook.emu.create_user("Wang", language_code="en")
    assert await hook.post(message_update(user, "/start")) == 200
    reply = await user.expect("invite link")
    assert reply.has_button("中文") and reply.has_button("English")
    assert await hook.count(ProcessedUpdate) == 1


async def test_malformed_body_is_refused(hook: Hook) -> None:
    headers = {HEADER: SECRET, "Content-Type": "application/json"}
    async with hook.http.post(hook.path, data=b"{not json", headers=headers) as resp:
        assert resp.status == 400
    async with hook.http.post(hook.path, json={"message": "no update id"}, headers=headers) as r:
        assert r.status == 400
    assert await hook.count(ProcessedUpdate) == 0


async def test_same_update_twice_is_handled_once(hook: Hook) -> None:
    user = await hook.emu.create_user("Wang", language_code="en")
    update = message_update(user, "/help")
    assert await hook.post(update) == 200
    await user.expect("What I can do")
    assert await hook.post(update) == 200  # a retry after it was handled
    await hook.settle()
    assert await bot_replies(user) == 1

    again = message_update(user, "/help")
    statuses = await asyncio.gather(*(hook.post(again) for _ in range(5)))  # all at once
    assert statuses == [200] * 5
    await hook.settle()
    assert await bot_replies(user) == 2
    assert await hook.count(ProcessedUpdate) == 2


async def test_logs_hold_no_token_secret_or_update_text(
    hook: Hook, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="aiogram")
    user = await hook.emu.create_user("Wang", language_code="en")
    secrets = [hook.token, hook.token.split(":", 1)[1], SECRET]
    personal = [PHONE, "my number is", "code-not-valid-xyz"]
    updates = [
        message_update(user, "/start"),
        message_update(user, f"my number is {PHONE}"),  # handled by nobody
        message_update(user, "/start code-not-valid-xyz"),  # refused
        message_update(user, "/orgs"),  # refused: not staff
    ]
    for update in updates:
        assert await hook.post(update) == 200
    assert await hook.post(message_update(user, "/help"), secret="wrong-" + SECRET) == 403
    await hook.settle()
    await user.expect("not valid")

    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    logged = "\n".join(formatter.format(r) for r in caplog.records)
    assert "update" in logged.lower()  # the capture did see the bot at work
    for needle in secrets + personal:
        assert needle not in logged, needle


async def test_a_person_waits_for_their_last_update_and_a_full_backlog_for_any(
    hook: Hook,
) -> None:
    """The next request is answered only when there is room (`backlog` updates at most
    unfinished, so Telegram feeds the other workers meanwhile) and the sender's last
    update is done (so their updates are handled in the order sent, whichever worker
    receives them)."""
    web_app = make_webhook_app(hook.app, hook.bot, SECRET, backlog=1)
    first = await hook.emu.create_user("Wang", language_code="en")
    second = await hook.emu.create_user("Li", language_code="en")
    locks = hook.app.dispatcher.fsm.events_isolation.inner
    async with TestClient(TestServer(web_app)) as http:

        async def post(update: dict[str, Any]) -> int:
            async with http.post(hook.path, json=update, headers={HEADER: SECRET}) as resp:
                return resp.status

        # Wang's last update still being handled (elsewhere: his lock is held here).
        wang = message_update(first, "/start")
        async with locks.lock(sender_key(hook.bot, Update.model_validate(wang))):
            waiting_wang = asyncio.create_task(post(wang))
            done, _ = await asyncio.wait({waiting_wang}, timeout=0.5)
            assert not done  # not accepted before his last update is done
            waiting_li = asyncio.create_task(post(message_update(second, "/start")))
            done, _ = await asyncio.wait({waiting_li}, timeout=0.5)
            assert not done  # the one place is Wang's: no answer yet
            assert await bot_replies(first) == 0 and await bot_replies(second) == 0
        assert await waiting_wang == 200
        assert await waiting_li == 200
        await first.expect("invite link")
        await second.expect("invite link")
        await asyncio.gather(*web_app[WEBHOOK_TASKS])
