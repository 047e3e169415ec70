"""The composition root: settings → engine → i18n → Dispatcher(**deps) → routers.

Nothing here runs at import time; `build()` assembles an application and the
`run_*` functions drive it. Tests and the demo call the same functions.
"""

from __future__ import annotations

import asyncio
import gc
import hmac
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from aiogram.client.telegram import TelegramAPIServer
from aiogram.dispatcher.middlewares.user_context import UserContextMiddleware
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, StorageKey
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from aiogram.methods import GetUpdates
from aiogram.types import Update
from aiogram.utils.i18n import I18n
from aiohttp import web
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.db.engine import create_engine, session_factory
from bot.delivery import RetryMiddleware, TelegramSession, read_answer, without_keyboards
from bot.errors import on_error
from bot.i18n import LOCALES_DIR, compile_catalogues
from bot.middlewares.db import DbSessionMiddleware, prune_processed_updates
from bot.middlewares.principal import PrincipalMiddleware
from bot.middlewares.refusals import RefusalMiddleware
from scoring import load_fortress_rubric, load_vanguard_rubric

if TYPE_CHECKING:
    from bot.scheduler.jobs import JobContext
    from bot.scheduler.runner import Scheduler
    from bot.sender import Sender, SendLimits

log = logging.getLogger("branchbot")


@dataclass
class App:
    settings: Settings
    clock: Clock
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    i18n: I18n
    dispatcher: Dispatcher

    async def close(self) -> None:
        await self.dispatcher.storage.close()
        await self.dispatcher.fsm.events_isolation.close()
        await self.engine.dispose()


def configure_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # HTTP client and server loggers can print request URLs, and the bot token is
    # part of every Bot API URL: keep them quiet.
    for noisy in ("aiohttp", "aiohttp.access", "aiohttp.client", "asyncio", "urllib3", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # aiogram logs a line for every update handled: formatting and writing it is work on
    # every update's path, and it says nothing an operator acts on.
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    # APScheduler announces each job twice at start and each run every minute; a failed
    # job is logged by `bot.scheduler.runner` and every run is kept in `job_run`.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def _storage(settings: Settings) -> tuple[BaseStorage, BaseEventIsolation]:
    if settings.redis_url:
        # Several processes behind one webhook share conversation state and locks.
        from aiogram.fsm.storage.base import DefaultKeyBuilder
        from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage

        # Keys carry the bot id, so one Redis can serve several bots (say, a city's
        # test bot beside its real one) without their conversations mixing.
        keys = DefaultKeyBuilder(with_bot_id=True)
        storage = RedisStorage.from_url(settings.redis_url, key_builder=keys)
        return storage, RedisEventIsolation(storage.redis)
    return MemoryStorage(), SimpleEventIsolation()


def build(settings: Settings, clock: Clock | None = None, engine: AsyncEngine | None = None) -> App:
    from handlers import feature_routers, writes_nothing
    from handlers.menu import menu_keyboard
    from handlers.registry import GatedDispatcher

    clock = clock or Clock(settings.tz)
    engine = engine or create_engine(settings.database_url)
    sessions = session_factory(engine)
    compile_catalogues()
    i18n = I18n(path=LOCALES_DIR, default_locale=settings.default_locale, domain="messages")
    rubric = load_fortress_rubric(settings.rubric_dir or None)
    vrubric = load_vanguard_rubric(settings.rubric_dir or None)
    storage, isolation = _storage(settings)
    dp = GatedDispatcher(
        storage=storage,
        events_isolation=isolation,
        # Dependencies handlers receive by parameter name.
        settings=settings,
        clock=clock,
        i18n=i18n,
        rubric=rubric,
        vrubric=vrubric,
    )
    # Order matters: the transaction wraps everything; the principal needs the
    # session; the locale needs the principal; refusals need the locale.
    dp.update.outer_middleware(DbSessionMiddleware(sessions, clock, writes_nothing(i18n)))
    # The principal, their language, and the guard, in one layer.
    dp.update.outer_middleware(PrincipalMiddleware(i18n, settings.superuser_ids))
    refusals = RefusalMiddleware(menu=menu_keyboard)
    dp.message.middleware(refusals)
    dp.callback_query.middleware(refusals)
    dp.errors.register(on_error)
    dp.include_routers(*feature_routers())
    return App(settings, clock, engine, sessions, i18n, dp)


def make_bot(settings: Settings, *, retry: bool = True) -> Bot:
    """The Bot; `retry=False` for the outbox sender, which handles 429s and 5xx itself
    (pausing every message, not just the one that hit the limit)."""
    token = settings.require_token()
    session = TelegramSession(json_loads=read_answer)
    if settings.telegram_api_base is not None:
        base = str(settings.telegram_api_base).rstrip("/")
        session.api = TelegramAPIServer.from_base(base, is_local=False)
    bot = Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    if retry:
        bot.session.middleware(RetryMiddleware())
    return bot


def job_context(app: App) -> JobContext:
    """What scheduled jobs and the sender's notices are given."""
    from bot.scheduler.jobs import JobContext

    return JobContext(app.sessions, app.clock, app.settings, app.i18n, app.dispatcher["rubric"])


def make_sender(app: App, bot: Bot, limits: SendLimits | None = None) -> Sender:
    """The outbox sender alone (tests; `make_scheduler` includes one)."""
    from bot.scheduler.calendar import tell_unreachable
    from bot.scheduler.runner import send_limits
    from bot.sender import Sender

    ctx = job_context(app)
    return Sender(
        bot,
        app.sessions,
        app.clock,
        limits or send_limits(app.settings),
        on_unreachable=lambda session, tg: tell_unreachable(ctx, session, tg),
    )


def make_scheduler(app: App, bot: Bot | None, **kwargs) -> Scheduler:
    """Scheduled jobs and (given a Bot) the outbox sender; `start()` takes the lock."""
    from bot.scheduler.runner import Scheduler

    return Scheduler(job_context(app), app.engine, bot, **kwargs)


async def prepare_bot(app: App, bot: Bot) -> None:
    from handlers.commands import register_commands

    await register_commands(bot, app.i18n)
    async with app.sessions() as session:
        await prune_processed_updates(session, app.clock.now())
        await session.commit()


class _Started(BaseRequestMiddleware):
    """`done` is set once the bot has answered its first update, or a poll found none:
    a request middleware sees the empty getUpdates, an outer update middleware (`update`)
    the first update handled."""

    def __init__(self) -> None:
        self.done = asyncio.Event()

    async def __call__(self, make_request, bot: Bot, method):
        result = await make_request(bot, method)
        if isinstance(method, GetUpdates) and not result:
            self.done.set()
        return result

    async def update(self, handler, event, data):
        try:
            return await handler(event, data)
        finally:
            self.done.set()


async def run_polling(
    app: App, bot: Bot, then: Callable[[], Awaitable[None]] | None = None
) -> None:
    """Long polling. What can wait — the command menus, pruning old update ids, and `then`
    (the scheduler's jobs) — is done once the first update is answered (or a poll found
    none), so that whoever wrote while the bot was down is answered first."""
    started = _Started()
    bot.session.middleware(started)
    app.dispatcher.update.outer_middleware(started.update)
    await bot.delete_webhook(drop_pending_updates=False)
    polling = asyncio.create_task(
        app.dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False)
    )
    try:
        waiting = asyncio.create_task(started.done.wait())
        await asyncio.wait({polling, waiting}, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        # Off every later request's and update's path.
        bot.session.middleware.unregister(started)
        app.dispatcher.update.outer_middleware.unregister(started.update)
        if polling.done():
            return polling.result()
        await prepare_bot(app, bot)
        if then is not None:
            await then()
        await polling
    finally:
        if not polling.done():
            polling.cancel()
            await asyncio.gather(polling, return_exceptions=True)


WEBHOOK_TASKS = web.AppKey("webhook_tasks", set)
MAX_UPDATE_ID = 2**63 - 1
# Updates a webhook process takes on before it has finished the earlier ones. Beyond
# it the next request is answered only when one of them is done, so Telegram (which
# sends on whichever of its connections is free) sends to the other workers meanwhile:
# the kernel spreads connections, not work, over the workers sharing the port, and a
# worker accepting everything at once was handed a fixed share of the updates however
# far behind it fell (two workers: one idle a quarter of the time, the other behind).
# Twice the database pool (10 + 10): enough that a worker never waits for the next
# request while it has connections free; few enough to be done within a second.
WEBHOOK_BACKLOG = 40
# Set in the task that handles an update whose sender's lock the webhook already holds.
_LOCKED_AT_THE_DOOR: ContextVar[bool] = ContextVar("locked_at_the_door", default=False)


class DoorIsolation(BaseEventIsolation):
    """The dispatcher's per-person lock, taken by the webhook before it accepts an update.

    Telegram sends a person's next update once the last one was accepted. Were the lock
    taken only when the handling starts (aiogram's way), the next update, accepted by
    another worker in the meantime, could take it first: a "yes" then "no" pressed
    quickly would end as "yes". Taken before the 200, it orders each person's updates
    as Telegram sent them, across workers; inside, the dispatcher's own lock is skipped
    (it would be a second one). Elsewhere (polling, the CLI) it is the inner lock."""

    def __init__(self, inner: BaseEventIsolation) -> None:
        self.inner = inner

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncIterator[None]:
        if _LOCKED_AT_THE_DOOR.get():
            yield
            return
        async with self.inner.lock(key):
            yield

    async def close(self) -> None:
        await self.inner.close()


def sender_key(bot: Bot, update: Update) -> StorageKey | None:
    """The key of the lock the webhook takes for an update: its sender's (or its chat's),
    spelt as the key of their private chat (the storage's key builder knows no other
    kind of key; inside, the dispatcher takes no lock of its own)."""
    context = UserContextMiddleware.resolve_event_context(update)
    who = context.user.id if context.user else context.chat.id if context.chat else None
    if who is None:
        return None
    return StorageKey(bot_id=bot.id, chat_id=who, user_id=who)


def make_webhook_app(
    app: App, bot: Bot, secret: str, backlog: int = WEBHOOK_BACKLOG
) -> web.Application:
    """An aiohttp app that accepts updates only with the right secret-token header.

    Updates are handled in background tasks (kept in `web_app[WEBHOOK_TASKS]`), at
    most `backlog` at a time; shutting the app down waits for them, so no update is
    cut off half-way.
    """
    path = app.settings.webhook_path
    tasks: set[asyncio.Task] = set()
    slots = asyncio.Semaphore(backlog)
    fsm = app.dispatcher.fsm
    if not isinstance(fsm.events_isolation, DoorIsolation):
        fsm.events_isolation = DoorIsolation(fsm.events_isolation)
    locks = fsm.events_isolation.inner

    async def handle(update: Update, held: AsyncExitStack) -> None:
        try:
            await app.dispatcher.feed_update(bot, update)
        finally:
            slots.release()
            await held.aclose()

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return web.Response(status=403)
        try:
            body = without_keyboards(await request.json())
            update = Update.model_validate(body, context={"bot": bot})
        except (ValueError, ValidationError, RecursionError):
            # Not logged: a validation error quotes the body, which holds personal data.
            # RecursionError: JSON nested deeper than the parser goes.
            return web.Response(status=400)
        if not 0 <= update.update_id <= MAX_UPDATE_ID:
            return web.Response(status=400)  # no BIGINT column can record it
        # Room, then the sender's lock (see DoorIsolation); answer then and handle in
        # the background: Telegram retries slow webhooks.
        await slots.acquire()
        held = AsyncExitStack()
        try:
            if (key := sender_key(bot, update)) is not None:
                await held.enter_async_context(locks.lock(key))
        except BaseException:
            slots.release()
            await held.aclose()
            raise
        token = _LOCKED_AT_THE_DOOR.set(True)
        try:
            task = asyncio.create_task(handle(update, held))
        finally:
            _LOCKED_AT_THE_DOOR.reset(token)
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return web.Response(status=200)

    async def drain(_: web.Application) -> None:
        await asyncio.gather(*tasks, return_exceptions=True)

    web_app = web.Application()
    web_app[WEBHOOK_TASKS] = tasks
    web_app.router.add_post(path, receive)
    web_app.on_shutdown.append(drain)
    return web_app


async def set_webhook(app: App, bot: Bot) -> None:
    """Point Telegram at this deployment's webhook (once per deployment, not per worker)."""
    settings = app.settings
    url = str(settings.webhook_url).rstrip("/") + settings.webhook_path
    await bot.set_webhook(
        url,
        secret_token=settings.require_webhook_secret(),
        allowed_updates=app.dispatcher.resolve_used_update_types(),
    )


async def listen(app: App, bot: Bot, *, reuse_port: bool = False) -> web.AppRunner:
    """Start the webhook server; `reuse_port` lets several worker processes share the port
    (SO_REUSEPORT: the kernel spreads incoming connections over them)."""
    settings = app.settings
    runner = web.AppRunner(
        make_webhook_app(app, bot, settings.require_webhook_secret()), access_log=None
    )
    await runner.setup()
    site = web.TCPSite(
        runner, settings.webhook_host, settings.webhook_port, reuse_port=reuse_port or None
    )
    await site.start()
    log.info("webhook listening on %s:%s", settings.webhook_host, settings.webhook_port)
    return runner


async def run_webhook(app: App, bot: Bot) -> None:
    await prepare_bot(app, bot)
    await set_webhook(app, bot)
    runner = await listen(app, bot)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


async def run_worker(app: App, bot: Bot) -> None:
    """One of several webhook workers: the supervisor (`bot.workers`) set the webhook."""
    runner = await listen(app, bot, reuse_port=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


# Net new container objects before the collector's youngest pass (Python's default: 700).
YOUNG_THRESHOLD = 20_000
# Seconds between full passes, which `serve` makes itself instead of letting every
# eleventh middle pass set one off.
FULL_PASS_EVERY = 600.0
_NEVER = 2**31 - 1


def settle_collector() -> tuple[int, int, int]:
    """The cyclic garbage collector for a long-running process, once it has started;
    returns the thresholds it replaced.

    Everything built so far (modules, models, catalogues, routers: some 180,000 objects)
    lives as long as the process: frozen, no collection walks it again (the walk paused
    the loop for ~180 ms of CPU now and then under load). An update leaves no cyclic
    garbage (`tests/handlers/test_collector.py`), so the collector only ever walks the
    objects of updates in flight: at Python's default threshold (700) a hundred updates
    in flight were walked and promoted every few updates. The youngest pass now runs
    once the live objects have grown by `YOUNG_THRESHOLD` since the last one — in-flight
    work seldom does, while cyclic garbage (it never dies on its own) still sets it off,
    so what the collector is there for is still freed young. A full pass walks every
    object in flight (under a burst, 100,000 or more: 50–220 ms of wall time here, the
    paced p99 on PostgreSQL): none runs on its own, `full_passes` makes one every
    `FULL_PASS_EVERY` seconds, for cycles that were promoted before they died.
    """
    previous = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, previous[1], _NEVER)
    return previous


def restore_collector(previous: tuple[int, int, int]) -> None:
    """As before `settle_collector` (tests and the demo run `serve` in their process)."""
    gc.set_threshold(*previous)
    gc.unfreeze()


async def full_passes(every: float = FULL_PASS_EVERY) -> None:
    while True:
        await asyncio.sleep(every)
        gc.collect()


async def serve(
    app: App, bot: Bot | None, scheduler: Scheduler | None = None, *, worker: bool = False
) -> None:
    """Run until SIGINT/SIGTERM, then shut down cleanly (a webhook worker lets the updates
    it accepted finish first).

    `bot` None: only the scheduler (`branchbot scheduler`); `scheduler` None: only the bot
    (`branchbot run --no-scheduler`, and every webhook worker).
    """
    collector = settle_collector()
    passes = asyncio.create_task(full_passes())
    try:
        await _serve(app, bot, scheduler, worker)
    finally:
        passes.cancel()
        restore_collector(collector)


async def _serve(app: App, bot: Bot | None, scheduler: Scheduler | None, worker: bool) -> None:
    if scheduler is not None:
        # The lock first: a second scheduler is refused before anything starts.
        await scheduler.claim()
    try:
        polling = bot is not None and not worker and not app.settings.webhook_url
        if scheduler is not None and not polling:
            await scheduler.begin()
        if bot is None:
            await _until_signal()
        else:
            await _serve_bot(app, bot, worker, scheduler.begin if scheduler and polling else None)
    finally:
        if scheduler is not None:
            await scheduler.stop()


async def _until_signal() -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("stopped")


async def _serve_bot(
    app: App, bot: Bot, worker: bool, then: Callable[[], Awaitable[None]] | None = None
) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if worker:
        task = asyncio.create_task(run_worker(app, bot))
    elif app.settings.webhook_url:
        task = asyncio.create_task(run_webhook(app, bot))
    else:
        task = asyncio.create_task(run_polling(app, bot, then))
    waiter = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()
    else:
        if not app.settings.webhook_url and not worker:
            await app.dispatcher.stop_polling()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    log.info("stopped")
