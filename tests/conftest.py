"""Shared fixtures: a migrated, empty database on SQLite always, PostgreSQL when configured.

`TEST_DATABASE_URL` (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test) adds the
PostgreSQL variant of every database test. Under CI=true a missing PostgreSQL fails
the run instead of skipping it.
"""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

import bot.app
from bot.db.engine import create_engine, session_factory
from bot.db.migrate import upgrade
from bot.db.models import load_all
from tests.browser import page  # noqa: F401 - the Playwright page fixture, for browser tests

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_URL = os.environ.get("TEST_DATABASE_URL")


def _shipped_once(load: Callable[..., Any]) -> Callable[..., Any]:
    """`load`, reading and checking the shipped rubric files once per test run.

    Every test that builds the app (`bot.app.build`) loaded both rubrics again: twelve
    TOML files parsed, composed and checked, about half of a build (0.2-0.5 s a test).
    The rubrics are frozen, and sharing one also keeps the scoring plan compiled for it
    (cached per rubric object). A RUBRIC_DIR is read every time as before; the loading
    itself is tested in tests/unit/scoring and through the CLI in fresh processes.
    """
    shipped: list[Any] = []

    @functools.wraps(load)
    def loaded(paths_or_dir: Any = None) -> Any:
        if paths_or_dir is not None:
            return load(paths_or_dir)
        if not shipped:
            shipped.append(load())
        return shipped[0]

    return loaded


bot.app.load_fortress_rubric = _shipped_once(bot.app.load_fortress_rubric)
bot.app.load_vanguard_rubric = _shipped_once(bot.app.load_vanguard_rubric)


def need(condition: bool, reason: str) -> None:
    """Skip on a laptop without the service; fail under CI, where it must exist."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file per run; each test gets a copy (migrating is the slow part)."""
    path = tmp_path_factory.mktemp("db") / "template.db"

    async def _make() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        await upgrade(engine)
        await engine.dispose()

    asyncio.run(_make())
    return path


_pg_migrated = False


async def _pg_engine() -> AsyncEngine:
    global _pg_migrated
    engine = create_engine(PG_URL)  # type: ignore[arg-type]
    if not _pg_migrated:
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await upgrade(engine)
        _pg_migrated = True
    async with engine.begin() as conn:
        await conn.execute(text(_PG_EMPTY))
    return engine


def _pg_empty_statement() -> str:
    """One round trip that leaves every table empty and every id counting from 1 again.

    TRUNCATE of all the tables cost 0.2-1 s per test (a new file per table, and it waits
    for an ACCESS EXCLUSIVE lock); deleting the few rows a test leaves is milliseconds.
    Children go before their parents, so the foreign keys (NO ACTION or CASCADE, checked
    at the end of each statement) never see an orphan. A sequence that was used since it
    was last reset has a last_value; only those are restarted. Two rounds: deleting
    month facts makes triggers write facts_token rows (migration 0012), and nothing orders
    a table that only triggers write after the tables that fire them; the second round
    finds those rows alone (empty tables cost next to nothing).
    """
    deletes = "".join(f'DELETE FROM "{t.name}";\n' for t in reversed(load_all().sorted_tables))
    deletes *= 2
    return f"""DO $$
DECLARE s record;
BEGIN
{deletes}FOR s IN SELECT sequencename FROM pg_sequences
    WHERE schemaname = current_schema() AND last_value IS NOT NULL LOOP
    EXECUTE format('ALTER SEQUENCE %I RESTART', s.sequencename);
END LOOP;
END $$"""


_PG_EMPTY = _pg_empty_statement()


@pytest.fixture(params=["sqlite", "postgres"])
async def engine(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> AsyncIterator[AsyncEngine]:
    if request.param == "postgres":
        need(bool(PG_URL), "TEST_DATABASE_URL is not set (PostgreSQL tests)")
        eng = await _pg_engine()
    else:
        db = tmp_path / "test.db"
        shutil.copy(sqlite_template, db)
        eng = create_engine(f"sqlite+aiosqlite:///{db}")
    try:
        yield eng
    finally:
        await eng.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with session_factory(engine)() as s:
        yield s
