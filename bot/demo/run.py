"""`branchbot demo`: the emulator, the bot polling it, and a seeded demo city, in one process."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import tempfile
import time
from pathlib import Path

from rich.console import Console

from bot.app import build, configure_logging, make_bot, prepare_bot
from bot.clock import Clock
from bot.config import load_settings
from bot.db.engine import create_engine
from bot.db.migrate import upgrade
from bot.demo import seed as demo
from bot.emulator import EmulatorConfig, EmulatorServer, FloodConfig
from bot.emulator.client import EmulatorClient
from bot.emulator.testing import polling

DEMO_TOKEN = "7000000001:branchbot-demo-token"  # only ever valid against the local emulator


async def _seed_if_empty(engine, clock: Clock) -> dict | None:
    from sqlalchemy import func, select

    from bot.db.engine import session_factory
    from bot.db.models import Organisation

    async with session_factory(engine)() as session:
        if (await session.execute(select(func.count(Organisation.id)))).scalar_one():
            return None
        info = await demo.seed(session, clock.now())
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
        "红旗村党支部群",
        members=[users[demo.MEMBER.telegram_id], users[demo.ORGANISER.telegram_id]],
        admins=[users[demo.SECRETARY.telegram_id]],
    )


def _database_file(db: Path | None, fresh: bool) -> Path:
    if db is None:
        return Path(tempfile.mkdtemp(prefix="branchbot-demo-")) / "demo.db"
    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    return db


async def run_demo(port: int, lang: str, db: Path | None, fresh: bool, console: Console) -> None:
    started = time.monotonic()
    db = _database_file(db, fresh)
    server = EmulatorServer(
        EmulatorConfig(
            token=DEMO_TOKEN,
            bot_username="branchbot_demo_bot",
            bot_first_name="branchbot",
            flood=FloodConfig(enabled=True),
        ),
        port=port,
    )
    await server.start()  # first, so a port in use fails before anything else happens
    settings = load_settings(
        bot_token=DEMO_TOKEN,
        telegram_api_base=server.url,
        database_url=f"sqlite+aiosqlite:///{db}",
        default_locale="zh_Hans" if lang == "zh" else "en",
    )
    clock = Clock(settings.tz)
    engine = create_engine(settings.database_url)
    await upgrade(engine)
    info = await _seed_if_empty(engine, clock)
    app = build(settings, clock=clock, engine=engine)
    bot = make_bot(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with EmulatorClient(server.url) as emu:
            await _personas(emu, lang)
        await prepare_bot(app, bot)
        async with polling(app.dispatcher, bot, polling_timeout=10):
            _banner(console, server.url, lang, db, info, time.monotonic() - started)
            await stop.wait()
    finally:
        console.print("stopping…")
        await bot.session.close()
        await app.close()
        await server.stop()


def _banner(console: Console, url: str, lang: str, db: Path, info: dict | None, took: float):
    zh = lang == "zh"
    console.print(f"[bold green]branchbot demo[/] {'已就绪' if zh else 'ready'} ({took:.1f} s)")
    console.print(f"  {'在浏览器中打开' if zh else 'Open'}: [bold]{url}/[/]")
    console.print(f"  {'数据库' if zh else 'Database'}: {db}")
    console.print("  " + ("可扮演的身份：" if zh else "Personas:"))
    for p in demo.PERSONAS:
        console.print(f"    {p.name} ({p.role_zh if zh else p.role_en}, id {p.telegram_id})")
    if info:
        link = f"https://t.me/branchbot_demo_bot?start={info['invite']}"
        hint = (
            "陈晓 可发送以下命令加入红旗村党支部" if zh else "As 陈晓, send this to join a branch"
        )
        console.print(f"  {hint}: /start {info['invite']}  ({link})")
    console.print("  Ctrl-C " + ("停止" if zh else "stops"))


def main(port: int, lang: str, db: Path | None, fresh: bool) -> None:
    configure_logging()
    console = Console()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_demo(port, lang, db, fresh, console))
