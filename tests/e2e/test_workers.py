"""Two real webhook worker processes on PostgreSQL + Redis: each update handled once,
one person's conversation carried from one worker to the other, and a burst of one
person's presses spread over both handled in the order it was sent.

The workers are the processes `branchbot run --workers N` starts (`bot.workers.worker_main`),
each on its own port here so that the test chooses which one receives an update. Their
replies go to the local emulator in this process. Stopping a worker lets it finish what
it accepted, so after the stop everything sent has been handled: no waiting on time.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from datetime import UTC, datetime, timedelta

import aiohttp
from aiogram.types import InlineKeyboardButton as B
from aiogram.types import InlineKeyboardMarkup
from redis.asyncio import Redis
from sqlalchemy import func, select

from bot.db.engine import session_factory
from bot.db.models import ProcessedUpdate, Rsvp
from bot.emulator import EmulatorConfig, EmulatorServer, FloodConfig, actors, free_port
from bot.emulator.client import EmulatorClient
from bot.emulator.testing import aiogram_bot
from bot.services import members, rsvp
from handlers.callbacks import Rsvp as RsvpButton
from tests.conftest import PG_URL, _pg_engine, need
from tests.e2e.seeds import ROOT, city, village_branch

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SECRET = "two-workers-secret"
SECRETARY, MEMBER = 3100, 3101
GROUP = -1003100


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


class Worker:
    """One worker process, started like the supervisor starts it."""

    def __init__(self, index: int, env: dict[str, str]) -> None:
        self.index = index
        self.port = free_port()
        self.env = {**env, "WEBHOOK_PORT": str(self.port)}
        self.proc: asyncio.subprocess.Process | None = None
        self.lines: list[str] = []
        self._drain: asyncio.Task | None = None

    async def start(self) -> None:
        # Worker 0 runs the scheduler and the outbox sender, as under the supervisor: the
        # question for the reason goes out through the outbox.
        code = f"from bot.workers import worker_main; worker_main({self.index}, {self.index == 0})"
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            code,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        while True:  # its log says when it listens; an exit ends the wait too
            line = (await asyncio.wait_for(self.proc.stdout.readline(), 120)).decode()
            if not line:
                raise AssertionError(f"worker {self.index} exited:\n{''.join(self.lines)}")
            self.lines.append(line)
            if "webhook listening" in line:
                break
        self._drain = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while line := await self.proc.stdout.readline():
            self.lines.append(line.decode())

    async def post(self, http: aiohttp.ClientSession, update: dict) -> int:
        url = f"http://127.0.0.1:{self.port}/telegram/webhook"
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        async with http.post(url, json=update, headers=headers) as resp:
            return resp.status

    async def stop(self) -> str:
        """SIGTERM: the worker finishes the updates it accepted, then exits."""
        if self.proc.returncode is None:
            self.proc.terminate()
            await asyncio.wait_for(self.proc.wait(), 60)
        await self._drain
        return "".join(self.lines)


async def _seed(session, now):
    top = await city(session, now)
    branch = await village_branch(session, now, top, SECRETARY)
    member = await members.add_member(
        session, ROOT.actor, now, org_id=branch.id, name="王党员", category="rural_community"
    )
    await members.link_telegram(session, ROOT.actor, now, member, MEMBER)
    await rsvp.link_group(session, ROOT, now, branch.id, GROUP)
    notice = await rsvp.announce(
        session, ROOT, now, branch.id, "committee", now + timedelta(days=2), "村部", "学习"
    )
    return notice.id, member.id


async def test_two_workers_handle_each_update_once_and_share_the_conversation(tmp_path):
    need(PG_URL is not None, "TEST_DATABASE_URL is not set (PostgreSQL)")
    need(_redis_up(), "Redis is not running on 127.0.0.1:6379")
    engine = await _pg_engine()
    sessions = session_factory(engine)
    server = await EmulatorServer(EmulatorConfig(flood=FloodConfig(enabled=False))).start()
    world = server.world
    workers: list[Worker] = []
    redis = Redis.from_url(REDIS_URL)
    bot_id = server.token.split(":")[0]
    try:
        async with sessions() as session:
            notice_id, member_id = await _seed(session, datetime.now(UTC))
            await session.commit()
        async with EmulatorClient(server.url) as emu:
            await emu.create_user("李书记", user_id=SECRETARY, language_code="en")
            await emu.create_user("王党员", user_id=MEMBER, language_code="en")
            await emu.create_group("红旗村", members=[MEMBER], admins=[SECRETARY], chat_id=GROUP)
        yes = RsvpButton(notice=notice_id, coming=True).pack()
        no = RsvpButton(notice=notice_id, coming=False).pack()
        poster = aiogram_bot(server.url, server.token)
        try:
            markup = InlineKeyboardMarkup(
                inline_keyboard=[[B(text="yes", callback_data=yes), B(text="no", callback_data=no)]]
            )
            posted = await poster.send_message(GROUP, "notice", reply_markup=markup)
        finally:
            await poster.session.close()
        async with sessions() as session:
            await rsvp.set_notice_message(session, notice_id, GROUP, posted.message_id)
            await session.commit()

        env = dict(os.environ)
        env.update(
            BOT_TOKEN=server.token,
            TELEGRAM_API_BASE=server.url,
            DATABASE_URL=PG_URL,
            REDIS_URL=REDIS_URL,
            WEBHOOK_URL="https://bot.example.invalid",
            WEBHOOK_SECRET=SECRET,
            WEBHOOK_HOST="127.0.0.1",
            SUPERUSER_IDS="",
            DEFAULT_LOCALE="en",
        )
        env.pop("RUBRIC_DIR", None)
        workers = [Worker(0, env), Worker(1, env)]
        await asyncio.gather(*(w.start() for w in workers))

        def press(data: str) -> tuple[str, dict]:
            query = actors.press_button(world, MEMBER, GROUP, posted.message_id, data)
            return query.id, world.updates.pending[-1]

        async with aiohttp.ClientSession() as http:
            # 1. One update delivered to both workers at the same moment.
            query_id, update = press(no)
            statuses = await asyncio.gather(*(w.post(http, update) for w in workers))
            assert statuses == [200, 200]
            asked = await world.hub.wait_for(
                lambda: [
                    m for m in world.chat(MEMBER).messages.values() if "Why can't you" in str(m)
                ],
                30,
            )
            assert asked and world.callback(query_id).answered

            # 2. The reason, typed as the next step of that conversation, reaches the
            # other worker: the state the first worker stored is in Redis.
            message = actors.send_as_user(world, MEMBER, None, text="生病住院")
            reason_update = world.updates.pending[-1]
            assert reason_update["message"]["message_id"] == message["message_id"]
            assert await workers[1].post(http, reason_update) == 200
            thanked = await world.hub.wait_for(
                lambda: [m for m in world.chat(MEMBER).messages.values() if "Thank you" in str(m)],
                30,
            )
            assert thanked

            # 3. A burst of presses from the same person, spread over both workers, sent
            # as Telegram sends one person's updates: each once the last was accepted.
            answered: list[str] = []
            publish = world.hub.publish

            def watching(event, chat=None):
                if event.get("type") == "callback_answer":
                    answered.append(event["callback_query_id"])
                return publish(event, chat)

            world.hub.publish = watching
            burst = [press(yes if i % 2 else no) for i in range(10)]
            statuses = [await workers[i % 2].post(http, u) for i, (_, u) in enumerate(burst)]
            assert statuses == [200] * 10

            def prompts() -> list:
                chat = world.chat(MEMBER).messages.values()
                return [m for m in chat if "Why can't you" in str(m)]

            # The burst's questions leave through the outbox, after their presses.
            await world.hub.wait_for(lambda: len(prompts()) >= 6, 30)
        logs = [await w.stop() for w in workers]
        for log in logs:
            assert "Traceback" not in log and "ERROR" not in log, log

        # Handled once: one prompt for the reason from the duplicated update, one row per
        # distinct update, every press answered.
        assert len(prompts()) == 1 + 5  # the duplicated press, and the burst's five "no"
        for qid, _ in [(query_id, None), *burst]:
            assert world.callback(qid).answered
        # In order: each press answered after the one sent before it, whichever worker
        # had it, so the last answer given is the one that stays.
        assert answered == [qid for qid, _ in burst]
        async with sessions() as session:
            ids = [update["update_id"], reason_update["update_id"]]
            ids += [u["update_id"] for _, u in burst]
            seen = await session.execute(
                select(ProcessedUpdate.update_id, func.count())
                .where(ProcessedUpdate.update_id.in_(ids))
                .group_by(ProcessedUpdate.update_id)
            )
            assert dict(seen.all()) == dict.fromkeys(ids, 1)
            row = (
                await session.execute(
                    select(Rsvp).where(Rsvp.notice_id == notice_id, Rsvp.member_id == member_id)
                )
            ).scalar_one()
            assert row.at is not None
    finally:
        for w in workers:
            if w.proc is not None and w.proc.returncode is None:
                w.proc.kill()
                await w.proc.wait()
        async for key in redis.scan_iter(f"fsm:{bot_id}:*"):
            await redis.delete(key)
        await redis.aclose()
        await server.stop()
        await engine.dispose()
