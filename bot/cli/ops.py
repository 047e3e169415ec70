"""Running the bot and looking after its database."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from bot.cli.common import (
    EXIT_REFUSED,
    console,
    database_or_exit,
    fail,
    rubric_failure,
    run_db,
    settings_or_exit,
    upgrade_hint,
    words,
)

db_app = typer.Typer(
    help="Database schema: upgrade to the latest, show the current revision.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def run(
    workers: int = typer.Option(
        1,
        "--workers",
        min=1,
        help="Webhook worker processes sharing the port (needs WEBHOOK_URL, REDIS_URL and "
        "PostgreSQL); long polling is always one process. The first worker also runs the "
        "scheduler unless --no-scheduler is given.",
    ),
    no_scheduler: bool = typer.Option(
        False,
        "--no-scheduler",
        help="Only answer updates: reminders and the outbox are left to `branchbot scheduler`.",
    ),
) -> None:
    """Run the bot: long polling, or a webhook server when WEBHOOK_URL is set.

    The scheduler (reminders) and the outbox sender run in the same process unless
    --no-scheduler is given; one database has one scheduler, and a second is refused.
    Refuses to start on an out-of-date schema: run `branchbot db upgrade` first, so
    that one deliberate step (not every process at start-up) changes the schema.
    """
    _serve(bot=True, scheduler=not no_scheduler, workers=workers)


def scheduler() -> None:
    """Run only the scheduler (reminders) and the outbox sender, for bot workers started
    with `branchbot run --no-scheduler`. One per database: a second one is refused."""
    _serve(bot=False, scheduler=True)


def _serve(*, bot: bool, scheduler: bool, workers: int = 1) -> None:
    import asyncio

    from bot.config import SettingsError
    from bot.db.engine import create_engine
    from bot.db.migrate import is_up_to_date

    settings = settings_or_exit()
    _ = words(settings)
    try:
        settings.require_token()
        if bot and settings.webhook_url:
            settings.require_webhook_secret()
    except SettingsError as exc:
        raise fail(exc.text(_)) from None
    from bot.workers import problems

    if found := problems(settings, workers):
        raise fail("; ".join(_(p) for p in found))
    database_or_exit(settings)

    async def _schema_ok() -> bool:
        engine = create_engine(settings.database_url)
        try:
            return await is_up_to_date(engine)
        finally:
            await engine.dispose()

    if not run_db(_schema_ok, settings):
        raise fail(upgrade_hint(settings))
    # Imported after the checks: aiogram takes seconds to import, a refusal should not.
    import logging

    from aiogram.exceptions import TelegramNetworkError, TelegramUnauthorizedError

    from bot.app import build, configure_logging, make_bot, make_scheduler, serve
    from bot.scheduler.lock import SchedulerBusy

    async def _telegram_answers() -> None:
        # One getMe before anything starts, so that a wrong token or an unreachable
        # Telegram is one line, not a trail of retries and a traceback.
        bot = make_bot(settings)
        retries = logging.getLogger("bot.delivery")
        level = retries.level
        retries.setLevel(logging.ERROR)
        try:
            await bot.get_me()
        finally:
            retries.setLevel(level)
            await bot.session.close()

    async def _main() -> None:
        app = build(settings, engine=create_engine(settings.database_url))
        the_bot = make_bot(settings) if bot else None
        sender_bot = make_bot(settings, retry=False) if scheduler else None
        sched = make_scheduler(app, sender_bot) if scheduler else None
        try:
            await serve(app, the_bot, sched)
        finally:
            for b in (the_bot, sender_bot):
                if b is not None:
                    await b.session.close()
            await app.close()

    try:
        asyncio.run(_telegram_answers())
        configure_logging()
        if workers > 1:
            from bot.workers import supervise

            supervise(settings, workers, scheduler=scheduler)
            return
        asyncio.run(_main())
    except SchedulerBusy as exc:
        raise fail(exc.text(_)) from None
    except TelegramUnauthorizedError:
        raise fail(
            "BOT_TOKEN: "
            + _("Telegram does not accept this token (Unauthorized): copy it again from @BotFather")
        ) from None
    except TelegramNetworkError as exc:
        if settings.telegram_api_base:
            msg = _("cannot reach Telegram ({reason}): check TELEGRAM_API_BASE")
        else:
            msg = _("cannot reach Telegram ({reason}): check the network")
        raise fail(msg.format(reason=exc.message)) from None


def demo(
    port: int = typer.Option(
        8080, min=1, max=65535, help="Port of the local Telegram and its browser chat."
    ),
    lang: str | None = typer.Option(
        None,
        help="Language of the personas and the bot's default: zh|en "
        "(default: the city's DEFAULT_LOCALE).",
    ),
    db: Path = typer.Option(None, help="Keep the demo in this SQLite file (default: a new one)."),
    fresh: bool = typer.Option(False, "--fresh", help="With --db: start again from the seed."),
) -> None:
    """Try branchbot without Telegram: a local Telegram, a browser chat and a demo city."""
    from sqlalchemy.exc import DatabaseError

    from bot.config import SettingsError
    from bot.demo.run import main
    from bot.emulator import PortInUseError
    from bot.scheduler.lock import SchedulerBusy
    from scoring.errors import RubricInvalid

    # The demo's own words follow --lang, else the city's language; a --lang it does
    # not know is refused in the city's language.
    if lang is None:
        from bot.cli.common import locale_of

        lang = "en" if locale_of() == "en" else "zh"
    _ = words_for_demo(lang) if lang in ("zh", "en") else words()
    if lang not in ("zh", "en"):
        raise fail("--lang: " + _("must be zh or en"))
    if db is not None and not db.parent.is_dir():
        raise fail("--db: " + _("the folder {folder} does not exist").format(folder=db.parent))
    if db is not None and db.is_dir():
        text = _("{path} is a folder; give a file name, e.g. {example}")
        raise fail("--db: " + text.format(path=db, example=db / "demo.db"))
    from bot.cli import LAUNCHED

    try:
        main(port, lang, db, fresh, LAUNCHED)
    except PortInUseError:
        text = _("port {port} is in use: stop what uses it, or pass --port")
        raise fail(text.format(port=port)) from None
    except SchedulerBusy:
        text = _("another demo is running on {path}; stop it first")
        raise fail("--db: " + text.format(path=db)) from None
    except SettingsError as exc:
        raise fail(exc.text(_)) from None
    except RubricInvalid as exc:
        raise rubric_failure(os.environ.get("RUBRIC_DIR"), exc) from None
    except DatabaseError as exc:
        # A damaged file, or something other than a demo database, given with --db.
        text = _("{path} cannot be used ({reason}); pass --fresh to start it again")
        raise fail("--db: " + text.format(path=db, reason=exc.orig)) from None


def words_for_demo(lang: str):
    from bot.i18n import gettext_for

    return gettext_for("en" if lang == "en" else "zh_Hans")


@db_app.command("upgrade")
def db_upgrade(
    create: bool = typer.Option(
        False, "--create", help="Create the PostgreSQL database first if it does not exist."
    ),
) -> None:
    """Create or migrate the schema to the latest revision (safe to run again)."""
    from bot.db.engine import create_database, create_engine
    from bot.db.migrate import current_revision, upgrade

    settings = settings_or_exit()

    async def _main() -> tuple[bool, str | None]:
        made = await create_database(settings.database_url) if create else False
        engine = create_engine(settings.database_url)
        try:
            await upgrade(engine)
            return made, await current_revision(engine)
        finally:
            await engine.dispose()

    made, revision = run_db(_main, settings)
    _ = words(settings)
    if made:
        console.print(_("database created"))
    console.print(_("schema at revision {revision} (head)").format(revision=revision))


@db_app.command("current")
def db_current() -> None:
    """Show the schema revision of the database; exit 1 when it is not the latest.

    Reads only: a SQLite file that does not exist is reported, not created.
    """
    from bot.db.engine import create_engine, sqlite_file
    from bot.db.migrate import current_revision, head_revision

    settings = settings_or_exit()
    _ = words(settings)
    file = sqlite_file(settings.database_url)
    if file is not None and not file.exists():
        text = _("there is no database at {file} yet: `branchbot db upgrade` creates it")
        raise fail("DATABASE_URL: " + text.format(file=file), code=EXIT_REFUSED)

    async def _main() -> str | None:
        engine = create_engine(settings.database_url)
        try:
            return await current_revision(engine)
        finally:
            await engine.dispose()

    rev, head = run_db(_main, settings), head_revision()
    if rev == head:
        console.print(_("revision {revision}: up to date").format(revision=rev))
        return
    text = _("revision {revision}: out of date (latest is {head}): run `branchbot db upgrade`")
    raise fail(text.format(revision=rev or _("none"), head=head), code=EXIT_REFUSED)
