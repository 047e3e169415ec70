"""CPU per update inside one process: the bot's own cost, without HTTP or the emulator.

`bench_load.py` measures what a user's load meets (two processes, the emulator, the
machine's other work); this one feeds updates straight to the Dispatcher, with a Bot
session that builds each request's form and parses a canned answer the way aiogram's
HTTP session does, but sends nothing. What is left is the bot's Python: the middlewares,
the transaction, the handler, the rendering and aiogram's own models. A bare echo
Dispatcher fed the same way gives the floor. Steady enough to compare one change with
the next on a shared machine (it is CPU time, not wall time), and `--profile` writes a
cProfile of the bot's updates.

    uv run python benchmarks/bench_update_cpu.py [--db sqlite|postgres] [--updates 2000]
        [--workloads me,rsvp,month,mark] [--profile FILE.prof]

PostgreSQL comes from `BENCH_DATABASE_URL` (its public schema is dropped and rebuilt).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_load  # the seeded city and its members

BATCH = 100  # as many updates as one getUpdates answer carries, handled concurrently


def fake_session(bot_token: str, like=None):
    """A session like `like` (its class and JSON reader; aiogram's by default) that
    answers every request without sending it."""
    from aiogram.client.session.aiohttp import AiohttpSession

    class Canned(type(like) if like is not None else AiohttpSession):
        next_id = 1000

        async def make_request(self, bot, method, timeout=None):
            # What the HTTP session writes: the bot's a JSON body, aiogram's a form.
            if hasattr(self, "fields"):
                json.dumps(self.fields(bot, method)[0], ensure_ascii=False).encode()
            else:
                self.build_form_data(bot=bot, method=method)
            name = method.__api_method__
            if name in ("sendMessage", "editMessageText"):
                Canned.next_id += 1
                chat_id = getattr(method, "chat_id", None) or 1
                result: Any = {
                    "message_id": getattr(method, "message_id", None) or Canned.next_id,
                    "date": int(time.time()),
                    "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
                    "from": {"id": int(bot_token.split(":")[0]), "is_bot": True, "first_name": "b"},
                    "text": method.text,
                }
            else:
                result = True
            content = json.dumps({"ok": True, "result": result})
            if hasattr(self, "read"):
                return self.read(bot, method, 200, content)
            return self.check_response(bot=bot, method=method, status_code=200, content=content)

    return Canned() if like is None else Canned(json_loads=like.json_loads)


def message_update(update_id: int, user: int, text: str) -> dict:
    entities = [{"type": "bot_command", "offset": 0, "length": len(text)}]
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": user, "type": "private", "first_name": "党员"},
            "from": {"id": user, "is_bot": False, "first_name": "党员", "language_code": "zh-hans"},
            "text": text,
            "entities": entities if text.startswith("/") else [],
        },
    }


def press_update(update_id: int, user: int, notice: dict, data: str) -> dict:
    return {
        "update_id": update_id,
        "callback_query": {
            "id": str(update_id),
            "from": {"id": user, "is_bot": False, "first_name": "党员", "language_code": "zh-hans"},
            "chat_instance": "1",
            "message": notice,
            "data": data,
        },
    }


async def scene(database_url: str, members: int) -> tuple[dict, str, int, dict[int, int]]:
    """The demo city with `members` linked members and its notice posted in the group, and
    a branch of `members` voters at its secret vote (`bench_load.seed_ballot`)."""
    from bot.emulator import EmulatorConfig, EmulatorServer, FloodConfig

    server = await EmulatorServer(
        EmulatorConfig(token=bench_load.BOT_TOKEN, flood=FloodConfig(enabled=False))
    ).start()
    try:
        notice_id, group_id = await bench_load.seed_city(database_url, server, members)
        users = [bench_load.FIRST_TG + i for i in range(members)]
        await bench_load.people(server, users, group_id)
        message_id, data = await bench_load.post_notice(database_url, server, notice_id)
        chat = server.world.chat(group_id)
        notice = json.loads(json.dumps(server.world.message(chat, message_id, "notice")))
        campaign, pick = await bench_load.seed_ballot(database_url, server, members)
    finally:
        await server.stop()
    return notice, data, campaign, pick


def ballot_message(voter: int) -> dict:
    """The voter's ballot page in their private chat, as a press carries it."""
    return {
        "message_id": 7,
        "date": int(time.time()),
        "chat": {"id": voter, "type": "private", "first_name": "党员"},
        "from": {"id": int(bench_load.BOT_TOKEN.split(":")[0]), "is_bot": True, "first_name": "b"},
        "text": "ballot",
    }


async def feed(dp, bot, updates: list[dict]) -> float:
    """CPU seconds to parse and handle `updates`, BATCH at a time as polling would."""
    from aiogram.types import Update

    started = time.process_time()
    for i in range(0, len(updates), BATCH):
        batch = [Update.model_validate(u, context={"bot": bot}) for u in updates[i : i + BATCH]]
        await asyncio.gather(*(dp.feed_update(bot, u) for u in batch))
    return time.process_time() - started


async def run(args) -> None:
    from aiogram import Bot

    from bot.app import build, make_bot, settle_collector
    from bot.clock import Clock
    from bot.config import load_settings
    from bot.delivery import RetryMiddleware

    if args.seeded and args.seeded.with_suffix(".json").exists():
        # A copy of a city seeded before (SQLite): seeding takes longer than measuring.
        shutil.copy(args.seeded, args.url.split("///", 1)[1])
        notice, data, campaign, pick = json.loads(args.seeded.with_suffix(".json").read_text())
    else:
        notice, data, campaign, pick = await scene(args.url, args.members)
        if args.seeded:
            shutil.copy(args.url.split("///", 1)[1], args.seeded)
            saved = [notice, data, campaign, pick]
            args.seeded.with_suffix(".json").write_text(json.dumps(saved))
    pick = {int(voter): cand for voter, cand in pick.items()}
    settings = load_settings(
        bot_token=bench_load.BOT_TOKEN,
        telegram_api_base="http://127.0.0.1:9",
        database_url=args.url,
        superuser_ids="",
        default_locale="zh_Hans",
        **({"redis_url": os.environ["BENCH_REDIS_URL"]} if args.redis else {}),
    )
    app = build(settings, clock=Clock(settings.tz))
    bot = make_bot(settings)
    await bot.session.close()
    canned = fake_session(bench_load.BOT_TOKEN, bot.session)  # its form writing and reading
    canned.middleware(RetryMiddleware())  # as make_bot installs it: commits before speaking
    bot.session = canned
    echo_bot = Bot(bench_load.ECHO_TOKEN, session=fake_session(bench_load.ECHO_TOKEN))
    echo = bench_load.echo_dispatcher()
    users = [bench_load.FIRST_TG + i for i in range(args.members)]
    voters = sorted(pick)
    next_id = iter(range(1, 10**9))
    marked = dict.fromkeys(voters, 0)

    def updates(workload: str, n: int) -> list[dict]:
        from handlers.callbacks import EvalView, Mark

        out = []
        for i in range(n):
            user = users[i % len(users)]
            if workload == "open":  # each voter opens their ballot
                vote = EvalView(campaign=campaign, act="vote").pack()
                out.append(press_update(next(next_id), voters[i], ballot_message(voters[i]), vote))
            elif workload == "mark":  # a grade on the ballot, switching between two
                voter = voters[i % len(voters)]
                band, marked[voter] = marked[voter] % 2, marked[voter] + 1
                press = Mark(campaign=campaign, cand=pick[voter], band=band, page=0).pack()
                out.append(press_update(next(next_id), voter, ballot_message(voter), press))
            elif workload == "rsvp":
                out.append(press_update(next(next_id), user, notice, data))
            else:
                out.append(message_update(next(next_id), user, "/" + workload))
        return out

    if args.statements:
        from sqlalchemy import event

        from bot.db import rows

        seen: list[str] = []
        event.listen(
            app.engine.sync_engine,
            "before_cursor_execute",
            lambda _c, _cur, sql, *_a: seen.append(" ".join(sql.split())[:150]),
        )
        rows.watchers.append(lambda sql: seen.append("(driver) " + " ".join(sql.split())[:141]))
        for workload in args.workloads:
            seen.clear()
            await feed(app.dispatcher, bot, updates(workload, 1))
            print(f"-- {workload}: {len(seen)} statements")
            for sql in seen:
                print("   ", sql)
        await app.close()
        return
    if "mark" in args.workloads:
        await feed(app.dispatcher, bot, updates("open", len(voters)))
    profiler = cProfile.Profile() if args.profile else None
    print(
        f"{'workload':8} {'echo ms':>8} {'bot ms':>8} {'ratio':>7} {'bot best':>9}"
        "   (CPU per update: median, and the best round: on a shared machine the steadier)"
    )
    try:
        for workload in args.workloads:
            await feed(echo, echo_bot, updates(workload, BATCH))  # warm up
            await feed(app.dispatcher, bot, updates(workload, 2 * BATCH))
            settle_collector()  # as `branchbot run` does once it has started
            echoes, bots = [], []
            for _ in range(args.rounds):  # alternating, so both meet the same machine
                echoes.append(await feed(echo, echo_bot, updates(workload, args.updates)))
                batch = updates(workload, args.updates)
                if profiler:
                    profiler.enable()
                bots.append(await feed(app.dispatcher, bot, batch))
                if profiler:
                    profiler.disable()
            e, b = statistics.median(echoes), statistics.median(bots)
            e_ms, b_ms = 1000 * e / args.updates, 1000 * b / args.updates
            best = 1000 * min(bots) / args.updates
            print(f"{workload:8} {e_ms:8.3f} {b_ms:8.3f} {100 * e_ms / b_ms:6.0f}% {best:9.3f}")
    finally:
        await echo_bot.session.close()
        await app.close()
    if profiler:
        profiler.dump_stats(args.profile)
        print(f"profile in {args.profile}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--updates", type=int, default=1000, help="per round")
    parser.add_argument("--rounds", type=int, default=3, help="the median is printed")
    parser.add_argument("--workloads", default="me,rsvp,month,mark")
    parser.add_argument("--profile", type=Path)
    parser.add_argument(
        "--seeded", type=Path, help="SQLite: keep the seeded city in this file and reuse it"
    )
    parser.add_argument(
        "--redis",
        action="store_true",
        help="conversation state and the per-user lock in Redis (BENCH_REDIS_URL), as workers",
    )
    parser.add_argument("--statements", action="store_true", help="print one update's SQL")
    args = parser.parse_args()
    args.workloads = [w for w in args.workloads.split(",") if w]
    if args.db == "postgres":
        args.seeded = None
        args.url = os.environ.get("BENCH_DATABASE_URL")
        if not args.url:
            raise SystemExit("BENCH_DATABASE_URL is not set")
        asyncio.run(bench_load.reset_postgres(args.url))
    else:
        args.url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp(prefix='bench-cpu-')) / 'b.db'}"
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
