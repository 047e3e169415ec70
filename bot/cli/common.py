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
from scoring.errors import RubricInvalid

T = TypeVar("T")

console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    # soft_wrap: one message stays one line, however narrow the terminal (or a pipe).
    err_console.print(message, style="red", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code)


def settings_or_exit(**overrides: object) -> Settings:
    try:
        settings = load_settings(**overrides)
    except SettingsError as exc:
        raise fail(str(exc)) from None
    if settings.rubric_dir:
        rubric_or_exit(settings.rubric_dir)
    return settings


def rubric_or_exit(rubric_dir: str) -> None:
    """A city's own rubric is checked before any command acts: every problem in one block.

    Exit code 2 like any other bad setting; the scoring module names file, key and problem.
    """
    from scoring import load_fortress_rubric

    try:
        load_fortress_rubric(rubric_dir)
    except RubricInvalid as exc:
        raise rubric_failure(rubric_dir, exc) from None


def rubric_failure(rubric_dir: str | None, exc: RubricInvalid) -> typer.Exit:
    problems = "\n".join(f"  {error}" for error in exc.errors)
    return fail(f"RUBRIC_DIR: {rubric_dir} is not a valid rubric:\n{problems}")


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
