"""The bot under a user's load: `/me`, an RSVP press and `/month`, against a bare echo bot.

One run starts two local Bot API emulators (flood control off) in this process, a bare
aiogram echo bot polling one of them and the real `branchbot run` polling (or, with
`--workers`, receiving webhooks from) the other, each in its own process. N members of
the demo city are linked to Telegram accounts (and N more in a branch of their own whose
democratic evaluation is at the secret vote, each with their ballot open: the `mark`
workload presses a grade on it); each workload is played in alternating
rounds — echo, then the bot — by all N members at once (each waits for the answer to
its update before sending the next one). Latency runs from the push into the emulator's
update queue to the bot's reply arriving at the emulator (the message, or the answer
to the press). Then each workload is paced at `--rate` updates/s for `--paced` seconds.

The machine is shared: the absolute figures move with its load, the ratio to the echo
bot measured in the same run much less. Targets (issue 14): `/me` >= 60 % of echo, the
RSVP press and a ballot mark >= 40 %, `/month` >= 20 %; paced p99 <= 50 ms for `/me` and
the press.

    uv run python benchmarks/bench_load.py [--db sqlite|postgres|both] [--members 200]
        [--seconds 5] [--rounds 2] [--rate 200] [--paced 20] [--workers N]
        [--profile DIR]   # py-spy (if installed) records the bot during each workload
    uv run python benchmarks/bench_load.py --db sqlite --members 1 --startup 5 [--importtime]
        # only launch → first answer (target ≤ 3 s), the echo bot's beside it

PostgreSQL comes from `BENCH_DATABASE_URL` (its public schema is dropped and rebuilt);
`--workers N` needs `BENCH_REDIS_URL` too and runs the bot as N webhook workers.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ECHO_TOKEN = "7100000001:bench-echo-token"
BOT_TOKEN = "7100000002:bench-bot-token"
FIRST_TG = 700_000
TARGETS = {"me": 0.60, "rsvp": 0.40, "month": 0.20, "mark": 0.40}
FIRST_VOTER = 800_000  # the ballot branch's members (their own branch, their own vote)
PACED_P99_MS = 50.0
TWO_WORKERS = 1.6  # 2 webhook workers' presses/s against one's
START_TARGET = 3.0  # seconds from `branchbot run` to its first answer
WEBHOOK_SECRET = "bench-webhook-secret"
HERE = Path(__file__).resolve()


# --- the echo bot: a process of its own ---------------------------------------------


def echo_dispatcher():
    """The baseline: a message is answered with its text, a press with "ok"."""
    from aiogram import Dispatcher
    from aiogram.types import CallbackQuery, Message

    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "?")

    @dp.callback_query()
    async def pressed(query: CallbackQuery) -> None:
        await query.answer("ok")

    return dp


def echo_bot(url: str, token: str) -> None:
    from aiogram import Bot
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer

    dp = echo_dispatcher()

    async def main() -> None:
        bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(url)))
        await dp.start_polling(bot, handle_signals=True, polling_timeout=10)

    asyncio.run(main())


# --- the driver -------------------------------------------------------------------------


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    found = [pid]
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                found.extend(children(int(child)))
    except OSError:
        pass
    return found


@dataclass
class Target:
    """One emulator and the bot that serves it; replies are caught as they are published."""

    name: str
    server: object
    members: list[int]
    group_id: int = 0
    notice_message: int = 0
    press_data: str = ""
    proc: subprocess.Popen | None = None
    by_chat: dict[int, deque] = field(default_factory=dict)
    by_query: dict[str, asyncio.Future] = field(default_factory=dict)
    by_edit: dict[int, deque] = field(default_factory=dict)
    last_message: dict[int, dict] = field(default_factory=dict)  # the bot's, by chat
    voters: list[int] = field(default_factory=list)  # the ballot workload's members
    campaign: int = 0
    candidate: dict[int, int] = field(default_factory=dict)  # voter → a member to mark
    ballot_message: dict[int, int] = field(default_factory=dict)  # voter → ballot page
    marked: dict[int, int] = field(default_factory=dict)  # voter → presses so far
    pushed: int = 0  # updates put in the emulator's queue
    answers: int = 0  # callback queries answered (a second answer would be refused)
    presses: int = 0  # of `pushed`, button presses

    def hook(self) -> None:
        hub = self.server.world.hub
        publish = hub.publish

        def watching(event, chat=None):
            event = publish(event, chat)
            kind = event.get("type")
            if kind in ("message", "edit") and event.get("from_bot"):
                self.last_message[event.get("chat_id")] = event["message"]
            if kind == "edit":
                waiting = self.by_edit.get(event.get("chat_id"))
                if waiting:
                    future = waiting.popleft()
                    if not future.done():
                        future.set_result(time.perf_counter())
            elif kind == "message" and event.get("from_bot"):
                waiting = self.by_chat.get(event.get("chat_id"))
                if waiting:
                    future = waiting.popleft()
                    if not future.done():
                        future.set_result(time.perf_counter())
            elif kind == "callback_answer":
                self.answers += 1
                future = self.by_query.pop(event["callback_query_id"], None)
                if future is not None and not future.done():
                    future.set_result(time.perf_counter())
            return event

        hub.publish = watching

    def pids(self) -> list[int]:
        return children(self.proc.pid) if self.proc else []

    async def say(self, user: int, text: str, timeout: float = 30.0) -> float:
        from bot.emulator import actors

        future = asyncio.get_running_loop().create_future()
        self.by_chat.setdefault(user, deque()).append(future)
        started = time.perf_counter()
        self.pushed += 1
        actors.send_as_user(self.server.world, user, None, text=text)
        return await asyncio.wait_for(future, timeout) - started

    async def press(
        self,
        user: int,
        timeout: float = 30.0,
        *,
        chat: int | None = None,
        message: int | None = None,
        data: str | None = None,
    ) -> float:
        """A press on the group's notice, or on `message` in `chat` with `data`; the time
        until the press is answered."""
        from bot.emulator import actors

        future = asyncio.get_running_loop().create_future()
        started = time.perf_counter()
        query = actors.press_button(
            self.server.world,
            user,
            self.group_id if chat is None else chat,
            self.notice_message if message is None else message,
            self.press_data if data is None else data,
        )
        self.by_query[query.id] = future
        self.pushed += 1
        self.presses += 1
        return await asyncio.wait_for(future, timeout) - started

    async def mark(self, user: int) -> float:
        """A mark on the voter's secret ballot, switching between the first two grades so
        every press changes the draft; the echo bot gets the group's button instead."""
        if not self.ballot_message:
            return await self.press(user)
        from handlers.callbacks import Mark

        n = self.marked.get(user, 0)
        self.marked[user] = n + 1
        data = Mark(campaign=self.campaign, cand=self.candidate[user], band=n % 2, page=0)
        return await self.press(
            user, chat=user, message=self.ballot_message[user], data=data.pack()
        )

    def users(self, workload: str) -> list[int]:
        return self.voters if workload == "mark" else self.members


WORKLOADS: dict[str, Callable[[Target, int], Awaitable[float]]] = {
    "me": lambda t, u: t.say(u, "/me"),
    "rsvp": lambda t, u: t.press(u),
    "month": lambda t, u: t.say(u, "/month"),
    "mark": lambda t, u: t.mark(u),
}


@dataclass
class Result:
    count: int
    seconds: float
    cpu: float
    latencies: list[float]
    failed: int
    driver: float = 0.0  # CPU seconds of this process: the emulators and the load

    @property
    def busy(self) -> float:
        """The bot's processes' CPU as a share of one core over the run."""
        return self.cpu / self.seconds if self.seconds else 0.0

    @property
    def driver_ms(self) -> float:
        return 1000 * self.driver / self.count if self.count else float("nan")

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.cpu / self.count if self.count else float("nan")


@contextmanager
def driver_gc_off():
    """The load generator's own garbage collector off while it measures. This process
    holds both emulators' worlds (every message sent in the run), and its full passes
    took 150-180 ms: every reply in flight then looked that much later, and the pause
    took a core from the bot on this 2-core machine. Collected before, on again after."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


async def burst(target: Target, workload: str, seconds: float) -> Result:
    """Every member at once, each sending its next update when the last one is answered."""
    with driver_gc_off():
        return await _burst(target, workload, seconds)


async def _burst(target: Target, workload: str, seconds: float) -> Result:
    act = WORKLOADS[workload]
    latencies: list[float] = []
    failed = 0
    pids = target.pids()
    cpu0 = cpu_seconds(pids)
    own0 = time.process_time()
    started = time.perf_counter()
    deadline = started + seconds

    async def member(user: int) -> None:
        nonlocal failed
        while time.perf_counter() < deadline:
            try:
                latencies.append(await act(target, user))
            except TimeoutError:
                failed += 1

    await asyncio.gather(*(member(u) for u in target.users(workload)))
    elapsed = time.perf_counter() - started
    cpu = cpu_seconds(pids) - cpu0
    return Result(len(latencies), elapsed, cpu, latencies, failed, time.process_time() - own0)


async def paced(target: Target, workload: str, rate: float, seconds: float) -> Result:
    """Open loop: `rate` updates a second, whatever the bot's answers do."""
    with driver_gc_off():
        return await _paced(target, workload, rate, seconds)


async def _paced(target: Target, workload: str, rate: float, seconds: float) -> Result:
    act = WORKLOADS[workload]
    latencies: list[float] = []
    failed = 0
    tasks = []
    pids = target.pids()
    cpu0 = cpu_seconds(pids)
    total = int(rate * seconds)
    started = time.perf_counter()

    async def one(user: int) -> None:
        nonlocal failed
        try:
            latencies.append(await act(target, user))
        except TimeoutError:
            failed += 1

    for i in range(total):
        delay = started + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        users = target.users(workload)
        tasks.append(asyncio.create_task(one(users[i % len(users)])))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    return Result(len(latencies), elapsed, cpu_seconds(pids) - cpu0, latencies, failed)


# --- setting the scene ---------------------------------------------------------------


async def reset_postgres(url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def seed_city(database_url: str, server, members: int) -> tuple[int, int]:
    """The demo city plus `members` linked members of its first branch; returns the
    notice's id and its group."""
    from bot.app import build
    from bot.clock import Clock
    from bot.config import load_settings
    from bot.db.engine import create_engine
    from bot.db.migrate import upgrade
    from bot.demo import seed as demo
    from bot.services import members as member_service
    from bot.services.audit import Actor

    settings = load_settings(
        bot_token=server.token, telegram_api_base=server.url, database_url=database_url
    )
    engine = create_engine(database_url)
    await upgrade(engine)
    app = build(settings, clock=Clock(settings.tz), engine=engine)
    actor = Actor.cli("bench")
    async with app.sessions() as session:
        now = app.clock.now()
        info = await demo.seed(session, now, rubric=app.dispatcher["rubric"])
        for i in range(members):
            member = await member_service.add_member(
                session,
                actor,
                now,
                org_id=info["branch_id"],
                name=f"党员{i:04d}",
                category="rural_community",
            )
            await member_service.link_telegram(session, actor, now, member, FIRST_TG + i)
        await session.commit()
    await app.close()
    return info["notice_id"], info["group_chat_id"]


async def post_notice(database_url: str, server, notice_id: int) -> tuple[int, str]:
    from bot.app import build, make_bot
    from bot.clock import Clock
    from bot.config import load_settings
    from bot.db.engine import create_engine
    from bot.demo.run import _post_notice
    from bot.services import rsvp
    from handlers.callbacks import Rsvp

    settings = load_settings(
        bot_token=server.token, telegram_api_base=server.url, database_url=database_url
    )
    app = build(settings, clock=Clock(settings.tz), engine=create_engine(database_url))
    bot = make_bot(settings)
    try:
        await _post_notice(app, bot, notice_id)
        async with app.sessions() as session:
            notice = await rsvp.get_notice(session, notice_id)
            message_id = notice.message_id
    finally:
        await bot.session.close()
        await app.close()
    return message_id, Rsvp(notice=notice_id, coming=True).pack()


async def seed_ballot(database_url: str, server, voters: int) -> tuple[int, dict[int, int]]:
    """A branch of its own with `voters` linked members and its democratic evaluation at
    the secret vote; returns the campaign's id and, for each voter's Telegram id, a
    member on the first page of their ballot to mark."""
    from sqlalchemy import select

    from bot.app import build
    from bot.clock import Clock
    from bot.config import load_settings
    from bot.db.engine import create_engine
    from bot.db.models import Organisation
    from bot.services import evaluation, orgs
    from bot.services import members as member_service
    from bot.services.audit import Actor
    from bot.services.members import Principal

    settings = load_settings(
        bot_token=server.token, telegram_api_base=server.url, database_url=database_url
    )
    app = build(settings, clock=Clock(settings.tz), engine=create_engine(database_url))
    vrubric = app.dispatcher["vrubric"]
    actor = Actor.cli("bench")
    staff = Principal(telegram_id=0, is_superuser=True)
    try:
        async with app.sessions() as session:
            now, today = app.clock.now(), app.clock.today()
            demo = (
                await session.execute(
                    select(Organisation)
                    .where(Organisation.kind == "branch")
                    .order_by(Organisation.id)
                    .limit(1)
                )
            ).scalar_one()
            branch = await orgs.create_org(
                session,
                actor,
                now,
                name="投票测试党支部",
                kind="branch",
                parent_id=demo.parent_id,
                domain=demo.domain,
            )
            ids = []
            for i in range(voters):
                member = await member_service.add_member(
                    session,
                    actor,
                    now,
                    org_id=branch.id,
                    name=f"投票人{i:04d}",
                    category="rural_community",
                )
                await member_service.link_telegram(session, actor, now, member, FIRST_VOTER + i)
                ids.append(member.id)
            period = evaluation.period_of(vrubric, today)
            campaign = await evaluation.open_campaign(session, staff, now, today, branch.id, period)
            await evaluation.advance(session, staff, now, today, campaign.id, "self", vrubric)
            await session.commit()
            # Names sort as they were numbered: the first voter's first page starts with
            # the second voter, everyone else's with the first.
            pick = {FIRST_VOTER + i: ids[1] if i == 0 else ids[0] for i in range(voters)}
            return campaign.id, pick
    finally:
        await app.close()


async def open_ballots(target: Target) -> None:
    """Each voter opens their ballot as a member would: /evaluation, then its vote
    button; the page it turns into is the message the marks are pressed on."""
    from handlers.callbacks import EvalView

    loop = asyncio.get_running_loop()
    vote = EvalView(campaign=target.campaign, act="vote").pack()

    async def one(user: int) -> None:
        await target.say(user, "/evaluation")
        message = target.last_message[user]
        edited = loop.create_future()
        target.by_edit.setdefault(user, deque()).append(edited)
        await target.press(user, chat=user, message=message["message_id"], data=vote)
        await asyncio.wait_for(edited, 30)
        target.ballot_message[user] = message["message_id"]

    await asyncio.gather(*(one(u) for u in target.voters))


async def people(server, members: list[int], group_id: int | None) -> None:
    from bot.emulator.client import EmulatorClient

    async with EmulatorClient(server.url) as emu:
        for uid in members:
            await emu.create_user(f"党员{uid}", user_id=uid, language_code="zh-hans")
        if group_id is not None:
            await emu.create_group("红旗村党支部群", members=members, chat_id=group_id)


async def echo_button(server, group_id: int) -> tuple[int, str]:
    from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

    from bot.emulator.testing import aiogram_bot

    bot = aiogram_bot(server.url, ECHO_TOKEN)
    try:
        markup = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="🙋", callback_data="rv:1:1")]]
        )
        sent = await bot.send_message(group_id, "notice", reply_markup=markup)
    finally:
        await bot.session.close()
    return sent.message_id, "rv:1:1"


def bot_env(database_url: str, server, workers: int, webhook_port: int) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("WEBHOOK_URL", "REDIS_URL", "RUBRIC_DIR"):
        env.pop(name, None)
    env.update(
        BOT_TOKEN=server.token,
        TELEGRAM_API_BASE=server.url,
        DATABASE_URL=database_url,
        SUPERUSER_IDS="",
        DEFAULT_LOCALE="zh_Hans",
    )
    if workers:
        env.update(
            WEBHOOK_URL=f"http://127.0.0.1:{webhook_port}",
            WEBHOOK_SECRET=WEBHOOK_SECRET,
            WEBHOOK_HOST="127.0.0.1",
            WEBHOOK_PORT=str(webhook_port),
            REDIS_URL=os.environ["BENCH_REDIS_URL"],
        )
    return env


def start_process(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        argv, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True
    )


def stop_process(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


async def first_answer(target: Target, user: int, limit: float = 300.0) -> float:
    """Seconds from now (the launch) to the first answered update.

    A `/me` is sent at once and again every 2 s until one is answered; an answer to any
    of them counts (a bot still starting finds them all queued), so the figure does not
    round up to the retry period."""
    from bot.emulator import actors

    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    waiting: list[asyncio.Future] = []
    while time.perf_counter() - started < limit:
        if target.proc.poll() is not None:
            raise SystemExit(f"{target.name} exited with {target.proc.returncode}")
        future = loop.create_future()
        target.by_chat.setdefault(user, deque()).append(future)
        target.pushed += 1
        actors.send_as_user(target.server.world, user, None, text="/me")
        waiting.append(future)
        done, _ = await asyncio.wait(waiting, timeout=2.0)
        if done:
            answered = min(f.result() for f in done)
            # The retries get their answers too, a moment later: they find nobody waiting
            # and are not taken for the answers to a workload's first updates.
            target.by_chat[user] = deque(f for f in target.by_chat[user] if f not in waiting)
            await asyncio.sleep(0.5)
            return answered - started
    raise SystemExit(f"{target.name} did not answer within {limit:.0f} s")


# --- the run ---------------------------------------------------------------------------


async def run_one(db: str, database_url: str, args, out: Path) -> dict:
    from bot.emulator import EmulatorConfig, EmulatorServer, FloodConfig, free_port

    def emulator(token: str) -> EmulatorServer:
        return EmulatorServer(EmulatorConfig(token=token, flood=FloodConfig(enabled=False)))

    members = [FIRST_TG + i for i in range(args.members)]
    echo = Target("echo", await emulator(ECHO_TOKEN).start(), members)
    real = Target("bot", await emulator(BOT_TOKEN).start(), members)
    for t in (echo, real):
        t.hook()
    notice_id, group_id = await seed_city(database_url, real.server, args.members)
    for t in (echo, real):
        t.group_id = group_id
        await people(t.server, members, group_id)
    real.notice_message, real.press_data = await post_notice(database_url, real.server, notice_id)
    echo.notice_message, echo.press_data = await echo_button(echo.server, group_id)
    if "mark" in args.workloads and not args.startup:
        voters = [FIRST_VOTER + i for i in range(args.members)]
        real.campaign, real.candidate = await seed_ballot(database_url, real.server, len(voters))
        for t in (echo, real):
            t.voters = voters
            await people(t.server, voters, None)

    echo_argv = [sys.executable, str(HERE), "--echo", echo.server.url, ECHO_TOKEN]
    argv = [str(Path(sys.executable).with_name("branchbot")), "run"]
    if args.workers:
        argv += ["--workers", str(args.workers)]
    env = bot_env(database_url, real.server, args.workers, free_port())
    report: dict = {"db": db, "workers": args.workers}
    if args.startup:
        try:
            report["startups"] = await startups(
                [(echo, echo_argv, dict(os.environ)), (real, argv, env)], members[0], args, out
            )
        finally:
            await real.server.stop()
            await echo.server.stop()
        return report
    echo.proc = start_process(echo_argv, dict(os.environ), out / f"{db}-echo.log")
    real.proc = start_process(argv, env, out / f"{db}-bot.log")
    try:
        report["cold_start"] = await first_answer(real, members[0])
        await first_answer(echo, members[0])
        if real.voters:
            await open_ballots(real)
        # Warm both: first imports, first queries, pydantic's first models.
        for workload in args.workloads:
            await burst(echo, workload, 1.0)
            await burst(real, workload, 1.0)
        rounds: dict[str, list[tuple[Result, Result]]] = {w: [] for w in args.workloads}
        for _ in range(args.rounds):
            for workload in args.workloads:
                e = await burst(echo, workload, args.seconds)
                b = await burst(real, workload, args.seconds)
                rounds[workload].append((e, b))
        report["bursts"] = rounds
        if args.profile:
            report["profiles"] = await profile(real, args, out, db)
        report["paced"] = {}
        for workload in args.paced_workloads.split(","):
            if args.paced > 0 and workload in WORKLOADS:
                e = await paced(echo, workload, args.rate, args.paced)
                b = await paced(real, workload, args.rate, args.paced)
                report["paced"][workload] = (e, b)
    finally:
        stop_process(real.proc)
        stop_process(echo.proc)
        await real.server.stop()
        await echo.server.stop()
    report["handled"] = (real.pushed, await processed(database_url), real.answers)
    return report


async def startups(targets: list, user: int, args, out: Path) -> dict[str, list[tuple]]:
    """Launch → first answer, one process at a time (the echo bot, then the bot, `args.
    startup` times): wall seconds and the CPU seconds the process had used by then.

    Alone on the machine, as an administrator's restart would be; the echo bot's start is
    aiogram's own floor (its imports, a getMe, the first getUpdates)."""
    found: dict[str, list[tuple]] = {t.name: [] for t, _, _ in targets}
    for i in range(args.startup):
        for target, argv, env in targets:
            log = out / f"startup-{target.name}-{i}.log"
            if args.importtime:
                env = {**env, "PYTHONPROFILEIMPORTTIME": "1"}
            target.proc = start_process(argv, env, log)
            try:
                wall = await first_answer(target, user)
                found[target.name].append((wall, cpu_seconds(target.pids())))
            finally:
                stop_process(target.proc)
                target.proc = None
    return found


async def processed(database_url: str) -> int:
    """Rows in the dedupe table: one per update handled, none lost, none twice."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(text("SELECT count(*) FROM processed_update"))).scalar()
    finally:
        await engine.dispose()


def start_spy(pid: int, seconds: float, path: Path) -> subprocess.Popen | None:
    spy = shutil.which("py-spy") or str(Path.home() / ".local/bin/py-spy")
    if not Path(spy).exists():
        print("py-spy not found: no profiles", file=sys.stderr)
        return None
    # --threads: each sample names its thread; only the event loop's thread is counted.
    argv = [spy, "record", "-p", str(pid), "-d", str(int(seconds)), "-r", "200", "-f", "raw"]
    argv.append("--threads")
    return subprocess.Popen(
        [*argv, "-o", str(path), "--nonblocking"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def profile(real: Target, args, out: Path, db: str) -> dict[str, Path]:
    found = {}
    for workload in args.workloads:
        path = out / f"{db}-{workload}.txt"
        spy_proc = start_spy(real.pids()[-1], args.seconds, path)
        if spy_proc is None:
            return found
        await burst(real, workload, args.seconds)
        await asyncio.get_running_loop().run_in_executor(None, spy_proc.wait)
        found[workload] = path
    return found


# Frames every sample passes through (the event loop, the CLI, aiogram's dispatch chain):
# inclusive shares of them say nothing about where the time goes.
_PLUMBING = (
    "/asyncio/",
    "runpy",
    "threading.py",
    "typer/",
    "click/",
    "aiogram/dispatcher/",
    "aiogram/fsm/middleware",
    "bot/middlewares/db.py",
    "bot/middlewares/principal.py",
    "bot/middlewares/refusals.py",
    "bot/cli/",
    "bot/app.py",
)


def top_costs(path: Path, limit: int = 14) -> list[tuple[float, str]]:
    """Inclusive share of samples per function from py-spy's raw output, plumbing left out."""
    totals: dict[str, int] = {}
    samples = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        samples += n
        seen = set()
        for frame in stack.split(";"):
            name = frame.split(" (")[0]
            where = frame.split(" (")[1].rstrip(")") if " (" in frame else ""
            if any(p in where for p in _PLUMBING) or name in ("<module>", "run", "main"):
                continue
            key = f"{name} ({where.split('site-packages/')[-1].split(':')[0]})"
            if key not in seen:
                seen.add(key)
                totals[key] = totals.get(key, 0) + n
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])[:limit]
    return [(100 * n / samples, key) for key, n in ranked] if samples else []


def summarise(report: dict) -> bool:
    ok = True
    db = report["db"]
    workers = report["workers"]
    label = f"{db}" + (f", {workers} webhook workers" if workers else ", polling, 1 process")
    if "startups" in report:
        print(f"\n== {label}: launch → first answered /me (target ≤ {START_TARGET:.0f} s)")
        for name, runs in report["startups"].items():
            walls = [w for w, _ in runs]
            cpus = [c for _, c in runs]
            each = ", ".join(f"{w:.2f}" for w in walls)
            line = (
                f"  {name:5} median {statistics.median(walls):5.2f} s  best {min(walls):5.2f} s"
                f"  CPU median {statistics.median(cpus):5.2f} s   ({each})"
            )
            if name == "bot":
                met = statistics.median(walls) <= START_TARGET
                ok &= met
                line += "  met" if met else "  NOT MET"
            print(line)
        print(f"load average: {os.getloadavg()[0]:.2f}")
        return ok
    print(f"\n== {label}: launch → first answer {report['cold_start']:.2f} s")
    print(
        f"{'workload':8} {'echo/s':>8} {'bot/s':>8} {'ratio':>7} {'target':>7}"
        f" {'p50':>7} {'p95':>7} {'p99':>7} {'CPU/upd':>8} {'echo p50':>8} {'echo CPU':>8}"
    )
    for workload, rounds in report["bursts"].items():
        ratios = [b.rate / e.rate for e, b in rounds if e.rate]
        ratio = statistics.median(ratios)
        e_rate = statistics.median(e.rate for e, _ in rounds)
        b_rate = statistics.median(b.rate for _, b in rounds)
        lat = Result(0, 0, 0, [x for _, b in rounds for x in b.latencies], 0)
        e_lat = Result(0, 0, 0, [x for e, _ in rounds for x in e.latencies], 0)
        cpu = statistics.median(b.cpu_ms for _, b in rounds)
        e_cpu = statistics.median(e.cpu_ms for e, _ in rounds)
        met = ratio >= TARGETS[workload]
        ok &= met
        failed = sum(b.failed for _, b in rounds)
        print(
            f"{workload:8} {e_rate:8.0f} {b_rate:8.0f} {100 * ratio:6.0f}% {'≥':>2}"
            f"{100 * TARGETS[workload]:3.0f}% {lat.pct(0.5):6.1f}ms {lat.pct(0.95):6.1f}ms"
            f" {lat.pct(0.99):6.1f}ms {cpu:6.1f}ms {e_lat.pct(0.5):6.1f}ms {e_cpu:6.2f}ms"
            f" {'met' if met else 'NOT MET'}" + (f" ({failed} unanswered)" if failed else "")
        )
        print(f"         rounds' ratios: {', '.join(f'{100 * r:.0f}%' for r in ratios)}")
        # Who is the bottleneck: a bot process near 100 % of a core is; otherwise the
        # driver (this process: both emulators and the simulated members) may be.
        print(
            "         bot CPU busy "
            + ", ".join(f"{100 * b.busy:.0f}%" for _, b in rounds)
            + " of a core (echo "
            + ", ".join(f"{100 * e.busy:.0f}%" for e, _ in rounds)
            + "); driver CPU/update "
            + ", ".join(f"{b.driver_ms:.2f}" for _, b in rounds)
            + " ms (echo "
            + ", ".join(f"{e.driver_ms:.2f}" for e, _ in rounds)
            + " ms)"
        )
    for workload, (e, b) in report.get("paced", {}).items():
        line = (
            f"paced {workload:6} {b.count}/{b.count + b.failed} answered in {b.seconds:.1f} s:"
            f" p50 {b.pct(0.5):.1f} ms, p95 {b.pct(0.95):.1f} ms, p99 {b.pct(0.99):.1f} ms,"
            f" CPU {b.cpu_ms:.1f} ms/update (echo p99 {e.pct(0.99):.1f} ms)"
        )
        if workload in ("me", "rsvp"):
            met = b.pct(0.99) <= PACED_P99_MS and not b.failed
            ok &= met
            line += f"  target p99 ≤ {PACED_P99_MS:.0f} ms: {'met' if met else 'NOT MET'}"
        print(line)
    pushed, rows, answers = report["handled"]
    # Polling stops with what was still queued left in the emulator (a paced run the bot
    # could not keep up with): only a webhook deployment must account for every update.
    verdict = "each handled once" if rows == pushed else "MISMATCH"
    if not workers and rows != pushed:
        verdict = f"{pushed - rows} still queued when the bot was stopped"
    print(f"updates pushed {pushed}, processed_update rows {rows} ({verdict}), answers {answers}")
    ok &= rows == pushed or not workers
    for workload, path in report.get("profiles", {}).items():
        print(f"profile {workload} ({path}): top inclusive costs")
        for share, key in top_costs(path):
            print(f"   {share:5.1f}%  {key}")
    return ok


# --- N webhook workers against one, in the same run -----------------------------------


def sibling_url(url: str, suffix: str) -> str:
    """The same PostgreSQL server, another database: one per deployment compared."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{suffix}").render_as_string(False)


def redis_pids() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "redis-server":
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def machine_busy() -> tuple[int, int]:
    """Busy and total jiffies of every core since boot (/proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(values) - values[3] - values[4], sum(values)


async def backend_pids(engine) -> list[int]:
    """PostgreSQL's server processes working for this deployment's database."""
    from sqlalchemy import text

    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        return [pid for (pid,) in rows]


@dataclass
class Usage:
    """Where a burst's CPU went: seconds per process (or group), the machine's load."""

    seconds: float
    cpu: dict[str, float]
    machine: float  # busy cores, averaged over the burst (2.0: both cores busy)
    load: tuple[float, float]  # load average (1 min) at the start and the end
    loops: dict[str, tuple[float, float]]  # each worker's loop: seconds run, waited for a CPU


def cpu_of(pid: int) -> float:
    return cpu_seconds([pid])


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    except OSError:
        return ""


def scheduled(pid: int) -> tuple[float, float]:
    """Seconds the process's main thread (a worker's event loop) has run on a CPU and
    has waited, runnable, for one (/proc/<pid>/schedstat); the rest of the time it slept,
    waiting for PostgreSQL, Redis, the Bot API or work."""
    try:
        ran, waited, _ = Path(f"/proc/{pid}/schedstat").read_text().split()
    except (OSError, ValueError):
        return 0.0, 0.0
    return int(ran) / 1e9, int(waited) / 1e9


async def measured(target: Target, workload: str, seconds: float, engine) -> tuple[Result, Usage]:
    """A burst, and the CPU each process spent on it: each worker, the supervisor, this
    driver (the emulator and the members), PostgreSQL's backends for the deployment's
    database, Redis (all its clients)."""
    supervisor, *workers = (p for p in target.pids() if "resource_tracker" not in cmdline(p))
    procs = {f"worker {i}": pid for i, pid in enumerate(workers)} or {"worker": supervisor}
    if workers:
        procs["supervisor"] = supervisor
    for i, pid in enumerate(redis_pids()):
        procs[f"redis{'' if i == 0 else i}"] = pid
    before = {name: cpu_of(pid) for name, pid in procs.items()}
    loops = {name: scheduled(pid) for name, pid in procs.items() if name.startswith("worker")}
    backends = {pid: cpu_of(pid) for pid in await backend_pids(engine)}
    busy0 = machine_busy()
    load0 = os.getloadavg()[0]
    result = await burst(target, workload, seconds)
    busy1 = machine_busy()
    cpu = {name: cpu_of(pid) - before[name] for name, pid in procs.items()}
    waits = {}
    for name, (ran, waited) in loops.items():
        now = scheduled(procs[name])
        waits[name] = (now[0] - ran, now[1] - waited)
    cpu["postgres"] = sum(
        cpu_of(pid) - backends.get(pid, 0.0) for pid in await backend_pids(engine)
    )
    cpu["driver"] = result.driver
    machine = 0.0
    if busy1[1] > busy0[1]:
        machine = os.cpu_count() * (busy1[0] - busy0[0]) / (busy1[1] - busy0[1])
    return result, Usage(result.seconds, cpu, machine, (load0, os.getloadavg()[0]), waits)


async def run_compare(database_url: str, args, out: Path) -> dict:
    """One deployment per worker count (its own emulator, bot token and database), all
    started at once, then alternating RSVP bursts: the ratios come from the same rounds."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from bot.db.engine import create_database
    from bot.emulator import EmulatorConfig, EmulatorServer, FloodConfig, free_port

    members = [FIRST_TG + i for i in range(args.members)]
    deployments: list[tuple[int, Target, str]] = []
    for n in args.worker_counts:
        url = database_url if n == args.worker_counts[0] else sibling_url(database_url, f"w{n}")
        await create_database(url)
        await reset_postgres(url)
        config = EmulatorConfig(
            token=f"71000001{n:02d}:bench-bot-token", flood=FloodConfig(enabled=False)
        )
        target = Target(
            f"{n} worker" + ("s" if n > 1 else ""), await EmulatorServer(config).start(), members
        )
        target.hook()
        notice_id, group_id = await seed_city(url, target.server, args.members)
        target.group_id = group_id
        await people(target.server, members, group_id)
        target.notice_message, target.press_data = await post_notice(url, target.server, notice_id)
        deployments.append((n, target, url))
    engines = {n: create_async_engine(url, pool_size=1) for n, _, url in deployments}
    argv = [str(Path(sys.executable).with_name("branchbot")), "run"]
    rounds: dict[int, list[tuple[Result, Usage]]] = {n: [] for n, _, _ in deployments}
    report: dict = {"counts": args.worker_counts, "rounds": rounds, "handled": {}}
    try:
        for n, target, url in deployments:
            env = bot_env(url, target.server, n, free_port())
            target.proc = start_process([*argv, "--workers", str(n)], env, out / f"workers-{n}.log")
        for n, target, _ in deployments:
            report.setdefault("cold_start", {})[n] = await first_answer(target, members[0])
        for _n, target, _ in deployments:  # warm: first imports, queries, models
            await burst(target, "rsvp", 2.0)
        for i in range(args.rounds):
            # Each round in the other order too, so neither count always goes first.
            order = deployments if i % 2 == 0 else deployments[::-1]
            for n, target, _ in order:
                rounds[n].append(await measured(target, "rsvp", args.seconds, engines[n]))
    finally:
        for _, target, _ in deployments:
            stop_process(target.proc)
            await target.server.stop()
        for engine in engines.values():
            await engine.dispose()
    for n, target, url in deployments:
        report["handled"][n] = (target.pushed, await processed(url), target.presses, target.answers)
    return report


def summarise_compare(report: dict) -> bool:
    counts = report["counts"]
    base = counts[0]
    rounds = report["rounds"]
    print(
        f"\n== postgres + Redis, webhook: {', '.join(map(str, counts))} workers, RSVP presses,"
        f" {len(rounds[base])} alternating rounds"
    )
    print(
        "launch → first answer: "
        + ", ".join(f"{n} workers {s:.1f} s" for n, s in report["cold_start"].items())
    )
    ok = True
    for n in counts:
        for i, (r, u) in enumerate(rounds[n]):
            workers = sum(v for k, v in u.cpu.items() if k.startswith("worker"))
            each = ", ".join(f"{k} {100 * v / u.seconds:.0f}%" for k, v in u.cpu.items())
            print(
                f"{n} worker{'s' if n > 1 else ' '} round {i + 1}: {r.rate:6.1f} presses/s"
                f"  p50 {r.pct(0.5):6.0f} ms  p99 {r.pct(0.99):6.0f} ms"
                f"  workers' CPU {1000 * workers / max(r.count, 1):4.1f} ms/press"
                f"  load {u.load[0]:.1f}→{u.load[1]:.1f}, machine {100 * u.machine:.0f}% of 2 cores"
                + (f"  ({r.failed} unanswered)" if r.failed else "")
            )
            print(f"         CPU, % of a core: {each}")
            loops = "; ".join(
                f"{k} ran {100 * ran / u.seconds:.0f}%, waited for a CPU"
                f" {100 * waited / u.seconds:.0f}%,"
                f" slept {100 * (1 - (ran + waited) / u.seconds):.0f}%"
                for k, (ran, waited) in u.loops.items()
            )
            print(f"         event loops: {loops}")
    for n in counts[1:]:
        ratios = [
            b.rate / a.rate
            for (a, _), (b, _) in zip(rounds[base], rounds[n], strict=True)
            if a.rate
        ]
        target = TWO_WORKERS if n == 2 else None
        median = statistics.median(ratios) if ratios else 0.0
        line = (
            f"{n} workers / {base}: {median:.2f}× (rounds {', '.join(f'{r:.2f}' for r in ratios)});"
            f" {statistics.median(a.rate for a, _ in rounds[base]):.1f} →"
            f" {statistics.median(b.rate for b, _ in rounds[n]):.1f} presses/s"
        )
        if target:
            met = median >= target
            ok &= met
            line += f"  target ≥ {target}×: {'met' if met else 'NOT MET'}"
        print(line)
    for n, (pushed, rows, presses, answers) in report["handled"].items():
        # Every update pushed is recorded once and every press answered once: none
        # handled twice (the id's row is unique; the emulator refuses a second answer to
        # a press and counts only the first), none lost.
        once = rows == pushed and answers == presses
        ok &= once
        print(
            f"{n} worker{'s' if n > 1 else ''}: updates pushed {pushed}, processed_update rows"
            f" {rows}; presses {presses}, answered {answers}"
            f" ({'each handled once' if once else 'MISMATCH'})"
        )
    return ok


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--echo":
        echo_bot(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=5.0, help="length of one burst")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--paced", type=float, default=20.0, help="seconds; 0 skips")
    parser.add_argument(
        "--workers",
        default="0",
        help="webhook workers (0: polling); several counts (1,2): RSVP presses only, each"
        " count's deployment against the first's in alternating rounds",
    )
    parser.add_argument("--workloads", default="me,rsvp,month,mark")
    parser.add_argument("--paced-workloads", default="me,rsvp")
    parser.add_argument("--profile", type=Path, help="a folder for py-spy's raw profiles")
    parser.add_argument(
        "--startup",
        type=int,
        default=0,
        metavar="N",
        help="only launch → first answer, N times each for the echo bot and the bot",
    )
    parser.add_argument(
        "--importtime",
        action="store_true",
        help="with --startup: `python -X importtime` in each process's log",
    )
    args = parser.parse_args()
    args.worker_counts = [int(n) for n in args.workers.split(",")]
    args.workers = args.worker_counts[0]
    if len(args.worker_counts) > 1:
        url = os.environ.get("BENCH_DATABASE_URL")
        if not url or not os.environ.get("BENCH_REDIS_URL"):
            raise SystemExit("--workers 1,2 needs BENCH_DATABASE_URL and BENCH_REDIS_URL")
        out = args.profile or Path(tempfile.mkdtemp(prefix="bench-load-"))
        ok = summarise_compare(asyncio.run(run_compare(url, args, out)))
        print(f"\nlogs in {out}")
        print("all targets met" if ok else "some targets NOT met")
        return
    args.workloads = [w for w in args.workloads.split(",") if w]
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    out = args.profile or Path(tempfile.mkdtemp(prefix="bench-load-"))
    runs = []
    if args.db in ("sqlite", "both") and not args.workers:
        runs.append(("sqlite", f"sqlite+aiosqlite:///{out / 'bench.db'}"))
    if args.db in ("postgres", "both"):
        url = os.environ.get("BENCH_DATABASE_URL")
        if url:
            runs.append(("postgres", url))
        else:
            print("BENCH_DATABASE_URL not set: PostgreSQL skipped", file=sys.stderr)
    ok = True
    for db, url in runs:
        if db == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{out / 'bench.db'}{suffix}").unlink(missing_ok=True)
        else:
            asyncio.run(reset_postgres(url))
        report = asyncio.run(run_one(db, url, args, out))
        ok &= summarise(report)
    print(f"\nlogs in {out}")
    print("all targets met" if ok else "some targets NOT met")


if __name__ == "__main__":
    main()
