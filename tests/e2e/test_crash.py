"""`kill -9` of the scheduler process in the middle of a broadcast, then a restart
(reliability case 10): nobody is skipped, and only what was in flight can arrive twice.

The scheduler runs as a real `branchbot scheduler` subprocess against the emulator (with
its flood control on) and the test's database; the test waits on conditions, not time.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from bot.db.engine import session_factory
from bot.db.models import Outbox, OutboxStatus
from bot.emulator import EmulatorConfig, EmulatorServer, FloodConfig
from bot.emulator.client import EmulatorClient
from bot.services import outbox
from bot.services.outbox import Envelope

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = 150
FIRST_ID = 30_000


def delivered(server: EmulatorServer) -> Counter:
    """Messages the bot has put in each private chat."""
    bot_id = server.world.bot.id
    counts: Counter = Counter()
    for chat_id, chat in server.world.chats.items():
        if chat_id >= FIRST_ID:
            counts[chat_id] = sum(1 for m in chat.messages.values() if m["from"]["id"] == bot_id)
    return counts


async def until(check, timeout: float = 90.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not met within {timeout} s")
        await asyncio.sleep(0.05)


async def spawn(url: str, server: EmulatorServer) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "BOT_TOKEN": server.token,
        "TELEGRAM_API_BASE": server.url,
        "SEND_PER_SECOND": "30",
        "QUIET_HOURS": "",
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from bot.cli import main; main()",
        "scheduler",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def test_kill_9_mid_broadcast_then_restart_skips_nobody(engine):
    flood = FloodConfig(enabled=True, global_per_second=30, global_burst=30)
    server = await EmulatorServer(EmulatorConfig(flood=flood)).start()
    sessions = session_factory(engine)
    chats = list(range(FIRST_ID, FIRST_ID + PEOPLE))
    procs: list[asyncio.subprocess.Process] = []
    try:
        async with EmulatorClient(server.url) as emu:
            for chat in chats:
                await emu.create_user(f"党员{chat}", user_id=chat)
        async with sessions() as session:
            mail = [Envelope(c, f"通知 {c}", f"crash:{c}", "broadcast") for c in chats]
            await outbox.enqueue(session, datetime.now(UTC), mail)
            await session.commit()
        url = engine.url.render_as_string(hide_password=False)

        procs.append(await spawn(url, server))

        async def a_third_went_out() -> bool:
            return sum(delivered(server).values()) >= PEOPLE // 3

        await until(a_third_went_out, what="the first third")
        procs[0].send_signal(signal.SIGKILL)
        await procs[0].wait()
        async with sessions() as session:
            in_flight = set(
                (
                    await session.execute(
                        select(Outbox.chat_id).where(Outbox.status == OutboxStatus.sending.value)
                    )
                ).scalars()
            )
        before = delivered(server)
        assert sum(before.values()) < PEOPLE, "the broadcast was over before the kill"

        procs.append(await spawn(url, server))

        async def all_marked_sent() -> bool:
            async with sessions() as session:
                statuses = set((await session.execute(select(Outbox.status))).scalars())
            return statuses == {OutboxStatus.sent.value}

        await until(all_marked_sent, what="every message marked sent after the restart")
        procs[1].send_signal(signal.SIGTERM)
        await asyncio.wait_for(procs[1].wait(), 30)

        after = delivered(server)
        skipped = [c for c in chats if after[c] == 0]
        twice = {c for c in chats if after[c] > 1}
        assert skipped == []
        assert twice <= in_flight, (twice - in_flight, in_flight)
        assert max(after.values()) <= 2
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        await server.stop()
