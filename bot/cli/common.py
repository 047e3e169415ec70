"""What every command-line command shares: settings, a database session, clear failures."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from rich.console import Console
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Settings, SettingsError, load_settings
from bot.db.engine import create_engine, session_factory
from bot.db.migrate import is_up_to_date
from bot.i18n import gettext_for
from bot.services.errors import ServiceError
from bot.texts import error_text

T = TypeVar("T")

console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    # soft_wrap: one message stays one line, however narrow the terminal (or a pipe).
    err_console.print(message, style="red", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code)


def settings_or_exit(**overrides: object) -> Settings:
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        raise fail(str(exc)) from None


def run_db(main: Callable[[], Awaitable[T]]) -> T:
    """`asyncio.run(main())`, with an unreachable database reported in one line."""
    try:
        return asyncio.run(main())
    except (OSError, OperationalError, InterfaceError) as exc:
        # The driver's own words (never the URL: it may hold a password).
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise fail(f"DATABASE_URL: cannot use the database: {reason}") from None


UPGRADE_HINT = "the database schema is out of date: run `uv run branchbot db upgrade` first"


def run_in_session(
    work: Callable[[AsyncSession, Clock, Settings], Awaitable[T]],
    settings: Settings | None = None,
) -> T:
    """Run `work` in one transaction: commit if it returns, roll back if it raises.

    A ServiceError becomes one clear line and exit code 1; nothing is written.
    """
    settings = settings or settings_or_exit()

    async def _main() -> T:
        engine = create_engine(settings.database_url)
        try:
            if not await is_up_to_date(engine):
                raise fail(UPGRADE_HINT)
            async with session_factory(engine)() as session:
                try:
                    result = await work(session, Clock(settings.tz), settings)
                    await session.commit()
                    return result
                except BaseException:
                    await session.rollback()
                    raise
        finally:
            await engine.dispose()

    try:
        return run_db(_main)
    except ServiceError as exc:
        raise fail(error_text(exc, gettext_for(settings.default_locale)), code=1) from None
