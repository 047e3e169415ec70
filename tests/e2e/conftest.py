"""End-to-end: the real branchbot (aiogram Bot over HTTP, polling) against the emulator.

`world` gives a running bot on a fresh database (SQLite, and PostgreSQL when
configured), the emulator's client to act as users, and the app to seed data with.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import App, build, make_bot, make_sender, prepare_bot
from bot.clock import FixedClock
from bot.config import load_settings
from bot.emulator import EmulatorConfig, EmulatorServer, FloodConfig
from bot.emulator.client import EmulatorClient
from bot.emulator.testing import LocalSession, polling
from bot.sender import Sender, running

SUPERUSER = 900
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@dataclass
class World:
    app: App
    emu: EmulatorClient
    server: EmulatorServer
    sender: Sender  # drains the outbox (notices to other people, reminders, broadcasts)

    async def seed(self, fn, *args):
        """Run `fn(session, now, *args)` in one committed transaction."""
        async with self.app.sessions() as session:
            result = await fn(session, self.app.clock.now(), *args)
            await session.commit()
            return result


@pytest.fixture
def world_settings() -> dict:
    """Extra settings for the bot under test; a test module may override this fixture."""
    return {}


@pytest.fixture
async def world(engine: AsyncEngine, world_settings: dict) -> AsyncIterator[World]:
    server = EmulatorServer(EmulatorConfig(flood=FloodConfig(enabled=False)))
    await server.start()
    settings = load_settings(
        bot_token=server.token,
        telegram_api_base=server.url,
        database_url="sqlite+aiosqlite:///unused.db",  # the engine below is what is used
        superuser_ids=str(SUPERUSER),
        **world_settings,
    )
    # A fixed 'now' keeps periods, quarters and due dates the same on any day the tests run.
    app = build(settings, clock=FixedClock(at=NOW), engine=engine)
    bot = make_bot(settings)
    sender_bot = make_bot(settings, retry=False)
    await prepare_bot(app, bot)
    try:
        # Generous: scoring a branch is real work, and CI machines are shared.
        async with EmulatorClient(server.url, default_timeout=15.0) as emu:
            async with polling(app.dispatcher, bot, polling_timeout=1):
                async with running(make_sender(app, sender_bot)) as sender:
                    yield World(app, emu, server, sender)
    finally:
        # As LocalSession does: without the 250 ms aiogram waits after closing each
        # session, for TLS connections; the emulator speaks plain HTTP.
        await LocalSession.close(bot.session)
        await LocalSession.close(sender_bot.session)
        await app.dispatcher.storage.close()
        await server.stop()
