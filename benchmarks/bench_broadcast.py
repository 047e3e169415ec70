"""A city-wide reminder: 26,000 recipients through the outbox sender, flood control on.

The emulator runs in its own process with Telegram's flood control on, its overall limit
scaled up (default 300 messages/s) to keep the run short; the sender is configured with
the same limit. Prints the achieved rate as a share of the limit (target >= 95%), the 429
answers received (target 0), and recipients that got nothing or got it twice (target 0).

    uv run python benchmarks/bench_broadcast.py [--people 26000] [--limit 300] [--db URL]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import tempfile
import time
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path

from bot.emulator import EmulatorConfig, EmulatorServer, FloodConfig, free_port

FIRST_ID = 1_000_000
TOKEN = "1234567:benchmark-token"


def serve(port: int, people: int, limit: float, control: Connection) -> None:
    """The emulator's process: creates the users, then reports who got how many messages."""

    async def main() -> None:
        flood = FloodConfig(enabled=True, global_per_second=limit, global_burst=limit)
        server = EmulatorServer(EmulatorConfig(token=TOKEN, flood=flood), port=port)
        for i in range(people):
            server.world.upsert_user(FIRST_ID + i, first_name=f"党员{i}", started=True)
        await server.start()
        loop = asyncio.get_running_loop()
        control.send("ready")
        await loop.run_in_executor(None, control.recv)
        bot_id = server.world.bot.id
        chats = server.world.chats
        got = [
            sum(1 for m in chats[FIRST_ID + i].messages.values() if m["from"]["id"] == bot_id)
            for i in range(people)
        ]
        control.send((sum(1 for n in got if n == 0), sum(1 for n in got if n > 1)))

    asyncio.run(main())


async def run(url: str, base: str, people: int, limit: float) -> dict:
    from sqlalchemy import func, select

    from bot.app import make_bot
    from bot.clock import Clock
    from bot.config import load_settings
    from bot.db.engine import create_engine, session_factory
    from bot.db.migrate import upgrade
    from bot.db.models import Outbox, OutboxStatus
    from bot.sender import Sender, SendLimits
    from bot.services import outbox

    engine = create_engine(url)
    await upgrade(engine)
    sessions = session_factory(engine)
    now = datetime.now(UTC)
    async with sessions() as session:
        await outbox.enqueue(
            session,
            now,
            (
                outbox.Envelope(
                    FIRST_ID + i,
                    f"⏰ 本月任务清单还有 3 项未完成 — reminder {i}",
                    f"bench:{i}",
                    "outstanding",
                )
                for i in range(people)
            ),
        )
        await session.commit()
    settings = load_settings(bot_token=TOKEN, telegram_api_base=base, database_url=url)
    bot = make_bot(settings, retry=False)
    sender = Sender(bot, sessions, Clock(), SendLimits(per_second=limit))
    stop = asyncio.Event()
    cpu_before = os.times()
    started = time.perf_counter()
    task = asyncio.create_task(sender.run(stop))
    await sender.idle.wait()
    elapsed = time.perf_counter() - started
    cpu_after = os.times()
    cpu = cpu_after.user - cpu_before.user + cpu_after.system - cpu_before.system
    stop.set()
    sender.wake()
    await task
    await bot.session.close()
    async with sessions() as session:
        not_sent = (
            await session.execute(
                select(func.count())
                .select_from(Outbox)
                .where(Outbox.status != OutboxStatus.sent.value)
            )
        ).scalar_one()
    await engine.dispose()
    return {
        "sent": sender.stats.sent,
        "elapsed": elapsed,
        "retry_after": sender.stats.retry_after,
        "not_sent": not_sent,
        "cpu": cpu,
        "rate": sender.stats.rate(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=26_000)
    parser.add_argument("--limit", type=float, default=300.0, help="messages/s, both sides")
    parser.add_argument("--db", help="database URL (default: a new SQLite file)")
    args = parser.parse_args()
    url = args.db or f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"

    port = free_port()
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(
        target=serve, args=(port, args.people, args.limit, theirs), daemon=True
    )
    process.start()
    try:
        if not ours.poll(120):
            raise SystemExit("the emulator did not start")
        ours.recv()
        result = asyncio.run(run(url, f"http://127.0.0.1:{port}", args.people, args.limit))
        ours.send("count")
        lost, duplicates = ours.recv()
    finally:
        process.terminate()
        process.join(5)
    rate = result["rate"]  # from the first message sent to the last
    share = rate / args.limit
    print(
        f"broadcast: {args.people:,} recipients, flood limit {args.limit:,.0f}/s "
        f"(emulator and sender)\n"
        f"  sent {result['sent']:,} at {rate:,.1f} messages/s (first to last message) "
        f"= {share:.1%} of the limit (target >= 95%); {result['elapsed']:.1f} s in all\n"
        f"  429 answers: {result['retry_after']} (target 0)\n"
        f"  lost: {lost} (target 0); duplicates: {duplicates} (target 0); "
        f"rows not marked sent: {result['not_sent']}\n"
        f"  sender CPU: {1e3 * result['cpu'] / result['sent']:.2f} ms per message "
        f"= {result['sent'] / result['cpu']:,.0f} messages per CPU-second"
    )
    if share < 0.95 or result["retry_after"] or lost or duplicates or result["not_sent"]:
        raise SystemExit("below target")


if __name__ == "__main__":
    main()
