"""“What's my star rating”, the whole-city dashboard and the city export, on a city.

    uv run python benchmarks/bench_rating.py [--branches 1221] [--members 26000]
        [--asks 200] [--keep DIR]

Builds the city of benchmarks/bench_month_close.py (same generator: 1,221 branches,
26,000 members, a year of meetings and evidence) in a fresh SQLite file, closes May
and June for every branch, links one member of every branch to a Telegram account,
and then, with "today" on 20 July, times on the server side: from the update handed
to the real Dispatcher (every middleware: the transaction, the principal, the
language, the guard) to the reply handed to the Bot API (no network: the Bot's
session records the request and answers like Telegram). The reply is the whole
answer (nothing follows by an edit), so this is "update received to reply sent":

- "我们支部现在几颗星？" from a member of `--asks` random branches: the star answer with
  the six basics, what is open and the way to the next star; first ask (nothing
  remembered) and asked again, as p50 / p95 / max, wall and CPU;
- "各支部情况怎么样？" from a superuser: the whole-city dashboard, five times (the first
  with nothing remembered): best and worst;
- /export from the superuser: the city's ratings ledger sent as a file (branches,
  items, and every member's approved result of last year), three times;

and last, how long `branchbot demo` takes from the start to ready (emulator, schema,
the demo city seeded, personas, the bot polling), on a fresh file.

The machine may be shared: note the load average printed next to the wall times; the
CPU times are disturbed less. Targets: star answer p95 ≤ 100 ms, dashboard ≤ 1 s,
export ≤ 10 s, demo ready ≤ 5 s; it exits with 1 when one is missed (worst
dashboard, worst export).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench_month_close import generate  # the same city as the month-close benchmark

from bot.db.engine import create_engine, session_factory
from bot.db.migrate import upgrade
from bot.services import periods
from scoring import load_fortress_rubric

CLOSED = ("2026-05", "2026-06")
NOW = datetime(2026, 7, 20, 2, tzinfo=UTC)  # 10:00 on 20 July in Shanghai
TARGETS = {"ask_p95": 0.100, "dashboard": 1.0, "export": 10.0, "demo": 5.0}
FIRST_TG = 900_000  # the linked member of branch `org_id` is FIRST_TG + org_id
SUPERUSER = 42_000
ASK = "我们支部现在几颗星？"
HOW_ARE_THEY = "各支部情况怎么样？"
STARS, BOARD, LEDGER = "六个基本", "规范达标率", "星级评定台账"  # in each answer


async def demo_ready(folder: Path) -> tuple[float, int]:
    from bot.demo.run import running_demo
    from bot.emulator import free_port

    path = folder / "demo.db"
    path.unlink(missing_ok=True)
    async with running_demo(free_port(), "zh", path) as started:
        return started.took, started.info["branches"]


def _pct(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def link_members(path: Path) -> None:
    """One member of every branch gets a Telegram account (FIRST_TG + the branch id), and
    every member last year's approved Vanguard result (the ledger's per-member sheet)."""
    grades = ("excellent", "qualified", "qualified", "qualified", "basically_qualified")
    with sqlite3.connect(path) as db:
        db.execute(
            "UPDATE member SET telegram_id = ? + org_id "
            "WHERE id IN (SELECT min(id) FROM member GROUP BY org_id)",
            (FIRST_TG,),
        )
        db.execute(
            "INSERT INTO eval_campaign (org_id, period, stage, min_voters, self_due, vote_due, "
            "review_due, notice_due, approval_due, version, created_at, updated_at) "
            "SELECT DISTINCT org_id, '2025', 'final', 5, '2025-12-05', '2025-12-12', "
            "'2025-12-19', '2025-12-26', '2026-01-09', 1, ?, ? FROM member",
            (NOW.isoformat(), NOW.isoformat()),
        )
        members = db.execute(
            "SELECT c.id, m.id FROM member m JOIN eval_campaign c ON c.org_id = m.org_id"
        ).fetchall()
        db.executemany(
            "INSERT INTO eval_result (campaign_id, member_id, total, computed_grade, "
            "proposed_grade, grade, deductions, breakdown, disposal_steps) "
            "VALUES (?, ?, ?, ?, ?, ?, '{}', '{}', '{}')",
            [
                (c, m, 60 + (m * 37) % 40, g, g, g)
                for c, m in members
                for g in (grades[m % len(grades)],)
            ],
        )


class Server:
    """The real Dispatcher, and a Bot whose session stamps each request and answers it
    the way Telegram would (a Message, or True)."""

    def __init__(self, url: str) -> None:
        from aiogram import Bot
        from aiogram.client.session.base import BaseSession

        from bot.app import build
        from bot.clock import FixedClock
        from bot.config import load_settings

        replies: list[tuple[str, float, Any]] = []
        self.replies = replies

        class Stamping(BaseSession):
            async def make_request(self, bot, method, timeout=None):
                replies.append((type(method).__name__, time.perf_counter(), method))
                return _telegram_answer(bot, method)

            async def close(self) -> None:
                pass

            async def stream_content(self, *args, **kwargs):  # pragma: no cover
                raise NotImplementedError

        settings = load_settings(
            bot_token="42:BENCH", database_url=url, superuser_ids=str(SUPERUSER)
        )
        self.engine = create_engine(url)
        self.app = build(settings, clock=FixedClock(at=NOW), engine=self.engine)
        self.bot = Bot("42:BENCH", session=Stamping())
        self._update = 0

    async def say(self, user_id: int, text: str, expect: str) -> tuple[float, float, str]:
        """(wall seconds to the last reply, CPU seconds, the reply's method); the reply
        must hold `expect` (its text, or a document's caption)."""
        from aiogram.types import Chat, Message, Update, User

        self._update += 1
        user = User(id=user_id, is_bot=False, first_name="党员", language_code="zh-hans")
        message = Message(
            message_id=self._update,
            date=NOW,
            chat=Chat(id=user_id, type="private"),
            from_user=user,
            text=text,
        )
        self.replies.clear()
        t, c = time.perf_counter(), time.process_time()
        update = Update(update_id=self._update, message=message)
        await self.app.dispatcher.feed_update(self.bot, update)
        cpu = time.process_time() - c
        sent = [r for r in self.replies if r[0] in ("SendMessage", "SendDocument")]
        said = sent and (getattr(sent[-1][2], "text", None) or sent[-1][2].caption or "")
        if not sent or expect not in said:
            raise RuntimeError(f"not the answer to {text!r}: {self.replies}")
        method, at, _ = sent[-1]
        return at - t, cpu, method

    async def close(self) -> None:
        await self.app.dispatcher.storage.close()
        await self.engine.dispose()


def _telegram_answer(bot, method) -> Any:
    from aiogram.types import Chat, Message, User

    returning = str(method.__returning__)
    if "Message" in returning:
        return Message(
            message_id=1,
            date=NOW,
            chat=Chat(id=getattr(method, "chat_id", 1) or 1, type="private"),
            from_user=User(id=42, is_bot=True, first_name="branchbot"),
            text=getattr(method, "text", None),
        ).as_(bot)
    if "User" in returning:
        return User(id=42, is_bot=True, first_name="branchbot", username="branchbot")
    return True


def forget_everything() -> None:
    """Empty what the process remembers between requests (the gap search, the overdue
    counts): the first ask after a restart."""
    from bot.services import dashboard, ratings

    ratings._gap_memo.clear()
    dashboard._overdue_memo.clear()


async def measure(url: str, asks: int, branches: list[int]) -> dict[str, object]:
    rubric = load_fortress_rubric()
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            for period in CLOSED:
                await periods.close_period(session, rubric, NOW, period)
            await session.commit()
    finally:
        await engine.dispose()
    server = Server(url)
    out: dict[str, object] = {}
    try:
        sample = random.Random(7).sample(branches, min(asks, len(branches)))
        await server.say(FIRST_TG + sample[0], ASK, STARS)  # imports and catalogues, once
        forget_everything()
        for label in ("first ask", "asked again"):
            walls, cpus = [], []
            for oid in sample:
                wall, cpu, _ = await server.say(FIRST_TG + oid, ASK, STARS)
                walls.append(wall)
                cpus.append(cpu)
            out[label] = walls, cpus
        forget_everything()
        board = [await server.say(SUPERUSER, HOW_ARE_THEY, BOARD) for _ in range(5)]
        out["dashboard"] = board
        out["export"] = [await server.say(SUPERUSER, "/export", LEDGER) for _ in range(3)]
        data = server.replies[-1][2].document.data
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            sheets = [n for n in book.namelist() if n.startswith("xl/worksheets/")]
        out["export_file"] = f"{len(sheets)} sheets, {len(data) / 1e6:.1f} MB"
    finally:
        await server.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--branches", type=int, default=1_221)
    parser.add_argument("--members", type=int, default=26_000)
    parser.add_argument("--asks", type=int, default=200)
    parser.add_argument("--keep", type=Path, help="write the database into this folder")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench_rating_"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "rating.db"
    path.unlink(missing_ok=True)
    url = f"sqlite+aiosqlite:///{path}"

    async def _migrate() -> None:
        engine = create_engine(url)
        await upgrade(engine)
        await engine.dispose()

    t = time.perf_counter()
    asyncio.run(_migrate())
    counts = generate(path, args.branches, args.members, 12)
    link_members(path)
    print(f"generated in {time.perf_counter() - t:.1f} s: {counts}")
    first_branch = 22  # generate(): the city, 20 towns, then the branches
    ids = list(range(first_branch, first_branch + args.branches))
    found = asyncio.run(measure(url, args.asks, ids))
    print(f"load average while measuring: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    failed = False
    for label in ("first ask", "asked again"):
        walls, cpus = found[label]
        print(
            f"star answer, {label} (update received → complete reply sent): "
            f"p50 {statistics.median(walls) * 1000:.1f} ms, p95 {_pct(walls, 0.95) * 1000:.1f} ms, "
            f"max {max(walls) * 1000:.1f} ms wall; CPU p50 {statistics.median(cpus) * 1000:.1f} "
            f"ms, p95 {_pct(cpus, 0.95) * 1000:.1f} ms ({len(walls)} branches)"
        )
        failed |= _pct(walls, 0.95) > TARGETS["ask_p95"]
    for what in ("dashboard", "export"):
        walls, cpus = [w for w, _, _ in found[what]], [c for _, c, _ in found[what]]
        print(
            f"{what}, whole city ({args.branches} branches; the first with nothing "
            f"remembered): best {min(walls):.3f} s, worst {max(walls):.3f} s wall; "
            f"CPU best {min(cpus):.3f} s, worst {max(cpus):.3f} s"
        )
        failed |= max(walls) > TARGETS[what]
    print(f"the ledger: {found['export_file']} (branches, items, members)")
    took, branches = asyncio.run(demo_ready(folder))
    print(f"demo ready in {took:.2f} s ({branches} branches)")
    failed |= took > TARGETS["demo"]
    print("targets: star answer p95 ≤ 100 ms, dashboard ≤ 1 s, export ≤ 10 s, demo ≤ 5 s")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
