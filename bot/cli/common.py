"""What every command-line command shares: settings, a database session, clear failures.

Start-up time matters here (an administrator may script a thousand calls), so this
module imports only the standard library and typer at load; settings, SQLAlchemy and
rich are imported by the functions that need them.

Exit codes, one rule for every command: 0 done; 1 the data was refused (a row of a
file, a name that exists, a period already closed — nothing was written); 2 the call
or the configuration is wrong (an unknown option, a missing file or folder, a bad
setting, a database that cannot be reached or is out of date).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import typer

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.clock import Clock
    from bot.config import Settings
    from bot.db.plain import PlainDb
    from scoring.errors import RubricInvalid

T = TypeVar("T")

EXIT_REFUSED = 1
EXIT_USAGE = 2


class _Out:
    """Plain lines to a stream; rich renderables (tables) through rich, imported then."""

    width: int | None = None  # for rich's tables; None: the terminal's

    def __init__(self, stream_name: str) -> None:
        self._stream_name = stream_name
        self._rich: Any = None

    @property
    def stream(self):
        return getattr(sys, self._stream_name)

    def print(self, *objects: Any, style: str | None = None, **_rich_options: Any) -> None:
        if all(isinstance(o, str) for o in objects):
            text = " ".join(objects)
            if style == "red" and self._colour():
                text = f"\033[31m{text}\033[0m"
            print(text, file=self.stream, flush=True)
            return
        self.rich().print(*objects, style=style, **_rich_options)

    def _colour(self) -> bool:
        return self.stream.isatty() and "NO_COLOR" not in os.environ

    def rich(self):
        if self._rich is None:
            from rich.console import Console

            self._rich = Console(stderr=self._stream_name == "stderr")
        if self.width:
            self._rich.width = self.width
        return self._rich


console = _Out("stdout")
err_console = _Out("stderr")


def fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    """One line on stderr; the caller raises what this returns."""
    err_console.print(message, style="red")
    return typer.Exit(code)


def ask(question: str, settings: Settings | None = None) -> bool:
    """A yes/no question in the command line's language (click's own asks and refuses
    in English); no answer (end of input, Ctrl-C) is `typer.Abort`, as with click."""
    _ = words(settings)
    choices = _("[y/N]")
    while True:
        try:
            answer = input(f"{question} {choices} ").strip().lower()
        except (EOFError, KeyboardInterrupt):
            raise typer.Abort() from None
        if answer in ("y", "yes", "是", "好", "确定"):
            return True
        if answer in ("", "n", "no", "否", "不"):
            return False
        err_console.print(_("Please answer y (yes) or n (no)."))


def locale_of(settings: Settings | None = None) -> str:
    """The language of the command line's own words: the city's DEFAULT_LOCALE, read
    from the environment (or `.env`) when the settings are what could not be loaded."""
    from bot.i18n import SUPPORTED

    if settings is not None:
        return settings.default_locale
    value = os.environ.get("DEFAULT_LOCALE")
    if value is None and os.path.exists(".env"):
        from dotenv import dotenv_values

        value = dotenv_values(".env").get("DEFAULT_LOCALE")
    return value if value in SUPPORTED else "zh_Hans"


def words(settings: Settings | None = None) -> Callable[[str], str]:
    """gettext in the command line's language (see `locale_of`)."""
    from bot.i18n import gettext_for

    return gettext_for(locale_of(settings))


def settings_or_exit(**overrides: object) -> Settings:
    from bot.config import SettingsError, load_settings

    try:
        settings = load_settings(**overrides)
    except SettingsError as exc:
        raise fail(exc.text(words())) from None
    if settings.rubric_dir:
        rubric_or_exit(settings.rubric_dir, settings)
    return settings


def rubric_or_exit(rubric_dir: str, settings: Settings | None = None) -> None:
    """A city's own rubric is checked before any command acts: every problem in one block.

    Exit code 2 like any other bad setting; the scoring module names file, key and problem.
    """
    from scoring import load_fortress_rubric
    from scoring.errors import RubricInvalid

    try:
        load_fortress_rubric(rubric_dir)
    except RubricInvalid as exc:
        raise rubric_failure(rubric_dir, exc, settings) from None


def rubric_failure(
    rubric_dir: str | None, exc: RubricInvalid, settings: Settings | None = None
) -> typer.Exit:
    from bot.cli.rubric import render_error

    _ = words(settings)
    problems = "\n".join(f"  {render_error(error, _)}" for error in exc.errors)
    head = _("{folder} is not a valid rubric:").format(folder=rubric_dir)
    return fail(f"RUBRIC_DIR: {head}\n{problems}")


def run_db(main: Callable[[], Awaitable[T]], settings: Settings | None = None) -> T:
    """`asyncio.run(main())`, with an unreachable database reported in one line."""
    import asyncio

    from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, ProgrammingError

    from bot.db.errors import database_problem

    try:
        return asyncio.run(main())
    except ProgrammingError as exc:
        if "permission denied" in str(exc.orig).lower():  # rights the administrator grants
            raise fail(database_problem(exc, words(settings))) from None
        raise  # a bug in a command, not a database the administrator can fix
    except (IntegrityError, DataError):
        raise
    except (OSError, DBAPIError) as exc:
        raise fail(database_problem(exc, words(settings))) from None


def database_or_exit(settings: Settings) -> None:
    """Refuse, saying how to create it, a SQLite file that does not exist: connecting
    would create an empty one, and the schema check would then call it out of date."""
    url = settings.database_url
    if not url.startswith("sqlite+aiosqlite:///"):
        return
    file = url.removeprefix("sqlite+aiosqlite:///").split("?", 1)[0]
    if file not in ("", ":memory:") and not os.path.exists(file):
        _ = words(settings)
        text = _("there is no database at {file} yet: `branchbot db upgrade` creates it")
        raise fail("DATABASE_URL: " + text.format(file=file))


def upgrade_hint(settings: Settings | None = None) -> str:
    _ = words(settings)
    return _("the database schema is out of date: run `branchbot db upgrade` first")


def run_in_session(
    work: Callable[[AsyncSession, Clock, Settings], Awaitable[T]],
    settings: Settings | None = None,
    locale: str | None = None,
) -> T:
    """Run `work` in one transaction: commit if it returns, roll back if it raises.

    A ServiceError becomes one clear line and exit code 1; nothing is written.
    """
    from bot.clock import Clock
    from bot.db.engine import create_engine, session_factory
    from bot.db.migrate import is_up_to_date
    from bot.i18n import gettext_for
    from bot.services.errors import ServiceError
    from bot.texts import error_text

    settings = settings or settings_or_exit()
    database_or_exit(settings)

    async def _main() -> T:
        engine = create_engine(settings.database_url)
        try:
            if not await is_up_to_date(engine):
                raise fail(upgrade_hint(settings))
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
        return run_db(_main, settings)
    except ServiceError as exc:
        _ = gettext_for(locale or settings.default_locale)
        raise fail(error_text(exc, _), code=EXIT_REFUSED) from None


def run_plain(
    work: Callable[[PlainDb, Clock], Awaitable[T]], settings: Settings | None = None
) -> T:
    """`run_in_session` without SQLAlchemy, for `org add` (see bot/db/plain.py): one
    transaction, the same refusal of an out-of-date schema, a ServiceError as one line
    and exit code 1, a database that cannot be used as one line and exit code 2."""
    import asyncio

    from bot.clock import Clock
    from bot.db import plain
    from bot.services.errors import ServiceError

    settings = settings or settings_or_exit()
    database_or_exit(settings)

    async def _main() -> T:
        async with plain.transaction(settings.database_url) as db:
            return await work(db, Clock(settings.tz))

    try:
        return asyncio.run(_main())
    except plain.SchemaBehind:
        raise fail(upgrade_hint(settings)) from None
    except ServiceError as exc:
        from bot.texts import error_text

        raise fail(error_text(exc, words(settings)), code=EXIT_REFUSED) from None
    except Exception as exc:
        if not plain.is_setup_problem(exc):
            raise  # a bug in a command, not a database the administrator can fix
        from bot.db.errors import database_problem

        raise fail(database_problem(exc, words(settings))) from None
