"""`branchbot demo --db` on a city's own database (made with the CLI, not the demo seed):
the banner does not promise personas and tips that database does not have, and says how
a persona gets in."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.db.engine import create_engine
from bot.db.migrate import upgrade
from bot.demo import seed as demo
from bot.demo.run import _banner, hints, running_demo
from bot.emulator import free_port
from bot.services import orgs
from bot.services.members import Principal


async def _own_city(path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    await upgrade(engine)
    async with async_sessionmaker(engine, expire_on_commit=False)() as session:
        root = Principal(telegram_id=0, is_superuser=True)
        await orgs.create_org(
            session, root.actor, datetime.now(UTC), name="青山市委", kind="committee"
        )
        await session.commit()
    await engine.dispose()


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_demo_on_a_citys_own_database(tmp_path: Path, lang: str) -> None:
    db = tmp_path / "city.db"
    await _own_city(db)
    async with running_demo(free_port(), lang, db) as started:
        assert started.own_city and started.info is None
        assert hints(started) == {}
        out = io.StringIO()
        _banner(Console(file=out, width=200), started)
    text = out.getvalue()
    assert f"org staff PATH {demo.STAFF.telegram_id}" in text
    assert "/orgs" in text
    assert "红旗村" not in text  # the demo's branch, which this city does not have
    assert "/stars" not in text and "/month" not in text
