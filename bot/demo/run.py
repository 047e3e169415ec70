"""`branchbot demo`: the emulator, the bot polling it, and a seeded demo city, in one process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import signal
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from bot.app import App, build, configure_logging, make_bot, make_scheduler, prepare_bot
from bot.clock import OffsetClock
from bot.config import load_settings
from bot.db.engine import create_engine
from bot.db.migrate import upgrade
from bot.demo import seed as demo
from bot.demo.clock import clock_router
from bot.emulator import EmulatorConfig, EmulatorServer, FloodConfig
from bot.emulator.client import EmulatorClient
from bot.emulator.testing import polling
from bot.services import rsvp

DEMO_TOKEN = "7000000001:branchbot-demo-token"  # only ever valid against the local emulator
BOT_USERNAME = "branchbot_demo_bot"


@dataclass(frozen=True)
class Demo:
    url: str  # the emulator: Bot API and the browser chat
    db: Path
    lang: str
    info: dict | None  # what the seed returned; None when the database was seeded before
    took: float  # seconds from the start to ready
    own_city: bool = False  # a database the demo did not seed: its personas are not on it


async def _is_demo_city(app: App) -> bool:
    """Whether the demo's staff persona is staff here: `--db` may name a city's own file."""
    from sqlalchemy import select

    from bot.db.models import Staff

    async with app.sessions() as session:
        found = await session.execute(
            select(Staff.id).where(Staff.telegram_id == demo.STAFF.telegram_id).limit(1)
        )
        return found.first() is not None


async def _seed_if_empty(app: App) -> dict | None:
    from sqlalchemy import func, select

    from bot.db.models import Organisation

    async with app.sessions() as session:
        if (await session.execute(select(func.count(Organisation.id)))).scalar_one():
            return None
        info = await demo.seed(session, app.clock.now(), rubric=app.dispatcher["rubric"])
        await session.commit()
        return info


async def _personas(emu: EmulatorClient, lang: str) -> None:
    code = "zh-hans" if lang == "zh" else "en"
    users = {}
    for p in demo.PERSONAS:
        users[p.telegram_id] = await emu.create_user(
            p.name, user_id=p.telegram_id, language_code=code, phone=p.phone
        )
    await emu.create_group(
        demo.GROUP_TITLE,
        members=[users[demo.MEMBER.telegram_id], users[demo.ORGANISER.telegram_id]],
        admins=[users[demo.SECRETARY.telegram_id]],
        chat_id=demo.GROUP_CHAT_ID,
    )


async def _post_notice(app: App, bot, notice_id: int) -> None:
    """Post the seeded meeting notice in the branch group, as /announce would."""
    from handlers.group import notice_text, rsvp_keyboard

    async with app.sessions() as session:
        notice = await rsvp.get_notice(session, notice_id)
        coming, not_coming = await rsvp.rsvp_summary(session, notice_id)
        with app.i18n.context(), app.i18n.use_locale(app.settings.default_locale):
            text = notice_text(notice, app.clock, len(coming), len(not_coming))
            markup = rsvp_keyboard(notice.id)
        sent = await bot.send_message(notice.chat_id, text, reply_markup=markup)
        await rsvp.set_notice_message(session, notice.id, sent.chat.id, sent.message_id)
        await session.commit()


def _clock_first(app: App, router) -> None:
    """/clock is the demo's own command: ahead of every feature's catch-all handlers."""
    app.dispatcher.include_router(router)
    app.dispatcher.sub_routers.remove(router)
    app.dispatcher.sub_routers.insert(0, router)


@contextlib.contextmanager
def _database_file(db: Path | None, fresh: bool) -> Iterator[Path]:
    """The demo's SQLite file: `db`, or one in a folder of its own that is removed when the
    demo stops however it stops (Ctrl-C, a port in use, an error): nothing is left in the
    temporary folder."""
    if db is not None:
        if fresh:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
        yield db
        return
    folder = tempfile.mkdtemp(prefix="branchbot-demo-")
    try:
        yield Path(folder) / "demo.db"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.asynccontextmanager
async def running_demo(
    port: int,
    lang: str,
    db: Path | None = None,
    fresh: bool = False,
    started: float | None = None,
) -> AsyncIterator[Demo]:
    """The demo, ready (seeded, personas created, bot polling) when the block starts.

    `started` (a `time.monotonic()`) is where `took` counts from: the command's start for
    `branchbot demo`, this call by default. Raises `PortInUseError` before doing anything
    else when the port is taken.
    """
    started = time.monotonic() if started is None else started
    with _database_file(db, fresh) as db_file:
        async with _running(port, lang, db_file, started) as running:
            yield running


@contextlib.asynccontextmanager
async def _running(port: int, lang: str, db: Path, started: float) -> AsyncIterator[Demo]:
    server = EmulatorServer(
        EmulatorConfig(
            token=DEMO_TOKEN,
            bot_username=BOT_USERNAME,
            bot_first_name="branchbot",
            flood=FloodConfig(enabled=True),
        ),
        port=port,
    )
    await server.start()  # first, so a port in use fails before anything else happens
    try:
        settings = load_settings(
            bot_token=DEMO_TOKEN,
            telegram_api_base=server.url,
            database_url=f"sqlite+aiosqlite:///{db}",
            default_locale="zh_Hans" if lang == "zh" else "en",
        )
        engine = create_engine(settings.database_url)
        await upgrade(engine)
        clock = OffsetClock(settings.tz)
        app = build(settings, clock=clock, engine=engine)
        bot = make_bot(settings)
        sender_bot = make_bot(settings, retry=False)
        scheduler = make_scheduler(app, sender_bot)
        _clock_first(app, clock_router(clock, scheduler))
        try:
            info = await _seed_if_empty(app)
            own_city = info is None and not await _is_demo_city(app)
            async with EmulatorClient(server.url) as emu:
                await _personas(emu, lang)
            await prepare_bot(app, bot)
            if info:
                await _post_notice(app, bot, info["notice_id"])
            async with scheduler, polling(app.dispatcher, bot, polling_timeout=10):
                yield Demo(server.url, db, lang, info, time.monotonic() - started, own_city)
        finally:
            await bot.session.close()
            await sender_bot.session.close()
            await app.close()
    finally:
        await server.stop()


async def run_demo(
    port: int,
    lang: str,
    db: Path | None,
    fresh: bool,
    console: Console,
    started: float | None = None,
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with running_demo(port, lang, db, fresh, started) as running:
        _banner(console, running)
        await stop.wait()
        console.print("stopping…")


def invite_command(info: dict) -> str:
    return f"/start {info['invite']}"


def hints(running: Demo) -> dict[int, str]:
    """What to try as each persona, in the demo's language (nothing on a city's own file)."""
    if running.own_city:
        return {}
    zh = running.lang == "zh"
    info = running.info or {}
    _past, previous, _current = demo.demo_months(datetime.now(UTC))
    group = demo.GROUP_TITLE
    tips = {
        demo.SECRETARY.telegram_id: "/month — 本月清单：点 ⬜ 事项，或「📝 记录会议」"
        if zh
        else "/month — this month's checklist: tap a ⬜ item, or “📝 Log a meeting”",
        demo.ORGANISER.telegram_id: "/month、/roster、/announce（向支部群发布会议通知）"
        if zh
        else "/month, /roster, /announce (post a meeting notice to the group)",
        demo.MEMBER.telegram_id: f"在群「{group}」里回复会议通知（🙋 参加 / 🙅 不能参加）"
        if zh
        else f"in the group “{group}”, answer the meeting notice (🙋 / 🙅)",
        demo.STAFF.telegram_id: f"/stars {previous}（已确认的星级）、/orgs"
        if zh
        else f"/stars {previous} (confirmed star levels), /orgs",
    }
    if running.info:
        tips[demo.NEWCOMER.telegram_id] = (
            f"{invite_command(info)} — 加入红旗村党支部，再分享手机号"
            if zh
            else f"{invite_command(info)} — join Hongqi Village branch, then share your phone"
        )
    return tips


def own_city_note(running: Demo) -> str:
    """On a database the demo did not seed, how a persona gets in (the tips would not work)."""
    staff = demo.STAFF
    command = f"branchbot org staff PATH {staff.telegram_id} {staff.name}"
    if running.lang == "zh":
        return (
            f"此数据库不是演示城市，以下身份不在其名册上。可先运行 {command}"
            f"（PATH 为党组织路径），再以{staff.name}的身份发送 /orgs 生成邀请链接。"
        )
    return (
        f"This database is not the demo city: the personas below are not on its roster. "
        f"Run {command} (PATH: an organisation's path), then send /orgs as "
        f"{staff.name} to make invite links."
    )


def _banner(console: Console, running: Demo) -> None:
    zh = running.lang == "zh"
    ready = "已就绪" if zh else "ready"
    console.print(f"[bold green]branchbot demo[/] {ready} ({running.took:.1f} s)")
    console.print(f"  {'在浏览器中打开' if zh else 'Open'}: [bold]{running.url}/[/]")
    console.print(f"  {'数据库' if zh else 'Database'}: {running.db}")
    if running.own_city:
        console.print("  " + own_city_note(running), markup=False, highlight=False, soft_wrap=True)
    console.print("  " + ("可扮演的身份，以及可以试试：" if zh else "Personas, and what to try:"))
    tips = hints(running)
    for p in demo.PERSONAS:
        role = "" if running.own_city else f"{p.role_zh if zh else p.role_en}, "
        console.print(f"    {p.name} ({role}id {p.telegram_id})")
        if p.telegram_id in tips:
            console.print(
                f"      → {tips[p.telegram_id]}", markup=False, highlight=False, soft_wrap=True
            )
    if running.info:
        link = f"https://t.me/{BOT_USERNAME}?start={running.info['invite']}"
        console.print(f"  {'邀请链接' if zh else 'Invite link'}: {link}", highlight=False)
    console.print(
        "  /clock next — "
        + (
            "快进演示时钟到下一次提醒（月初清单、未完成事项、到期提醒）"
            if zh
            else "fast-forward the demo's clock to the next reminder (kickoff, open items, due)"
        ),
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    console.print("  Ctrl-C " + ("停止" if zh else "stops"))


def main(port: int, lang: str, db: Path | None, fresh: bool, started: float | None = None) -> None:
    # Warnings and errors only: someone trying the demo reads the banner and what to try,
    # not the migrations, the scheduler's jobs and polling announced line by line.
    configure_logging(logging.WARNING)
    console = Console()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_demo(port, lang, db, fresh, console, started))
