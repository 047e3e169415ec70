"""`branchbot run` at start (issue 14: launch to first answer): whoever wrote while the
bot was down is answered before the bot sets its command menus and begins its scheduled
jobs; the scheduler lock is still taken before anything else, so a second scheduler is
refused before it polls."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from bot.app import build, make_bot, make_scheduler, serve
from bot.config import load_settings
from bot.emulator import EmulatorConfig, EmulatorServer, FloodConfig
from bot.emulator.client import EmulatorClient
from bot.scheduler.lock import SchedulerBusy
from tests.e2e.test_outbox_delivery import wait_for


async def test_the_first_update_is_answered_before_the_menus_and_the_jobs(engine) -> None:
    server = EmulatorServer(EmulatorConfig(flood=FloodConfig(enabled=False)))
    await server.start()
    settings = load_settings(
        bot_token=server.token,
        telegram_api_base=server.url,
        database_url="sqlite+aiosqlite:///unused.db",  # the engine below is what is used
    )
    app = build(settings, engine=engine)
    bot = make_bot(settings)
    scheduler = make_scheduler(app, None)
    at_first_answer: dict[str, object] = {}
    hub = server.world.hub
    publish = hub.publish

    def watching(event, chat=None):
        event = publish(event, chat)
        if event.get("type") == "message" and event.get("from_bot") and not at_first_answer:
            at_first_answer["menus"] = dict(server.world.commands)
            at_first_answer["jobs"] = scheduler.aps
        return event

    hub.publish = watching
    serving = None
    try:
        async with EmulatorClient(server.url, default_timeout=30.0) as emu:
            user = await emu.create_user("李春梅", language_code="zh-hans")
            await user.send("/start")  # written while the bot is down
            serving = asyncio.create_task(serve(app, bot, scheduler))
            await user.expect()
            assert at_first_answer == {"menus": {}, "jobs": None}

            # Then, without anyone writing again, the menus and the jobs follow.
            async def started() -> bool:
                jobs = scheduler.aps
                return bool(server.world.commands) and jobs is not None and jobs.running

            await wait_for(started, timeout=30.0)
            # A second scheduler on the same database is refused before it polls.
            with pytest.raises(SchedulerBusy):
                await serve(app, make_bot(settings), make_scheduler(app, None))
    finally:
        if serving is not None:
            os.kill(os.getpid(), signal.SIGINT)  # what stops `branchbot run`
            await asyncio.wait_for(serving, 30)
        await bot.session.close()
        await app.close()
        await server.stop()
