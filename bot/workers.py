"""`branchbot run --workers N`: several webhook processes behind one port.

A process answers updates on one core; a city's evening vote needs more. The supervisor
(this module's `supervise`, the process `branchbot run` started) registers the commands,
prunes old update ids and sets the webhook once, then starts N worker processes that
each listen on the same host and port with SO_REUSEPORT, so the kernel spreads
Telegram's connections over them. What they share lives outside them:

- PostgreSQL: the data, and the `processed_update` table, so an update delivered twice
  (to two workers, at once) is handled by one of them only;
- Redis: conversation state (`RedisStorage`) and the per-user lock
  (`RedisEventIsolation`, taken before an update is accepted: `bot.app.DoorIsolation`),
  so one person's updates are handled one at a time, in order, whichever worker
  receives them.

Each worker is a session of its own. Linux shares a busy machine's CPU between sessions
first (autogroup scheduling) and only then between their processes: workers left in the
supervisor's session split one session's share, so on a machine busy with anything
else two workers got the CPU of one (`benchmarks/bench_load.py --workers 1,2`: 15 % +
16 % of a core against one worker's 31–37 %, 0.98× its presses/s; as sessions, 1.77×).
A worker still ends with its supervisor (the parent-death signal), whatever kills it.

A worker that dies is started again. SIGTERM/SIGINT stop the workers, each finishing
the updates it accepted. Long polling cannot be shared (Telegram hands each update to
one `getUpdates` caller), so it stays one process and `--workers` asks for a webhook.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing
import os
import signal
import sys
import time

from bot.config import Settings
from bot.db.engine import is_sqlite
from bot.i18n import N_

log = logging.getLogger("branchbot.workers")
RESTART_PAUSE = 1.0  # seconds before a worker that died is started again


def problems(settings: Settings, workers: int) -> list[str]:
    """Why these settings cannot run `workers` processes (empty: they can), as message
    ids: the command line translates them."""
    if workers <= 1:
        return []
    found = []
    if not settings.webhook_url:
        found.append(
            N_(
                "--workers needs WEBHOOK_URL: long polling is one process (Telegram hands "
                "each update to one getUpdates caller)"
            )
        )
    if not settings.redis_url:
        found.append(
            N_("--workers needs REDIS_URL: conversation state and each user's lock live there")
        )
    if is_sqlite(settings.database_url):
        found.append(N_("--workers needs PostgreSQL (DATABASE_URL=postgresql+asyncpg://…)"))
    return found


def _own_session(parent: int) -> None:
    """Make this worker a session (so the scheduler gives it a share of its own) that
    still receives SIGTERM when `parent`, its supervisor, dies."""
    os.setsid()
    if sys.platform.startswith("linux"):
        PR_SET_PDEATHSIG = 1
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the supervisor died before the signal was asked for
        os.kill(os.getpid(), signal.SIGTERM)


def worker_main(index: int, scheduler: bool = False, parent: int | None = None) -> None:
    """A worker process: settings from the environment, like the supervisor's; the one
    given `scheduler` also runs the deployment's scheduler and outbox sender. `parent`:
    the supervisor's pid (the worker then becomes a session of its own, see above)."""
    if parent is not None:
        _own_session(parent)
    from bot.app import build, configure_logging, make_bot, make_scheduler, serve
    from bot.config import load_settings
    from bot.db.engine import create_engine

    configure_logging()
    settings = load_settings()

    async def main() -> None:
        app = build(settings, engine=create_engine(settings.database_url))
        bot = make_bot(settings)
        sender = make_bot(settings, retry=False) if scheduler else None
        try:
            await serve(app, bot, make_scheduler(app, sender) if sender else None, worker=True)
        finally:
            for b in (bot, sender):
                if b is not None:
                    await b.session.close()
            await app.close()

    log.info("worker %d started", index)
    asyncio.run(main())


async def _prepare(settings: Settings) -> None:
    from bot.app import build, make_bot, prepare_bot, set_webhook
    from bot.db.engine import create_engine

    app = build(settings, engine=create_engine(settings.database_url))
    bot = make_bot(settings)
    try:
        await prepare_bot(app, bot)
        await set_webhook(app, bot)
    finally:
        await bot.session.close()
        await app.close()


def supervise(settings: Settings, workers: int, *, scheduler: bool = True) -> None:
    """Set the webhook, run `workers` processes until SIGTERM/SIGINT, restart any that dies.

    Worker 0 runs the scheduler too (when `scheduler`): one per deployment, and the
    database lock refuses a second one should another machine start one as well."""
    asyncio.run(_prepare(settings))
    context = multiprocessing.get_context("spawn")
    stopping = False

    def stop(_signum, _frame) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def start(index: int):
        process = context.Process(
            target=worker_main,
            args=(index, scheduler and index == 0, os.getpid()),
            name=f"worker-{index}",
        )
        process.start()
        return process

    running = {i: start(i) for i in range(workers)}
    log.info("%d webhook workers on %s:%s", workers, settings.webhook_host, settings.webhook_port)
    try:
        while not stopping:
            for index, process in list(running.items()):
                if not process.is_alive() and not stopping:
                    log.warning("worker %d exited (%s); starting it again", index, process.exitcode)
                    time.sleep(RESTART_PAUSE)
                    running[index] = start(index)
            time.sleep(0.2)
    finally:
        for process in running.values():
            if process.is_alive():
                process.terminate()  # SIGTERM: the worker finishes what it accepted
        for process in running.values():
            process.join(30)
            if process.is_alive():
                process.kill()
        log.info("stopped")
