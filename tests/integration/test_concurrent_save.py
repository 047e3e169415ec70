"""Save pressed twice at once (issue 8, section 2): two tasks with two sessions, and on
PostgreSQL two processes, save the same meeting; exactly one meeting is stored and the
other save is refused as a duplicate."""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import asdict

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.engine import session_factory
from bot.db.models import Meeting
from bot.services import meetings
from bot.services.errors import ServiceError
from bot.services.members import load_principal
from tests.conftest import PG_URL
from tests.integration import month_world
from tests.integration.month_world import NOW, RUBRIC, SECRETARY_TG

SAVE = """
import asyncio, json, sys
from datetime import date
from bot.db.engine import create_engine, session_factory
from bot.services import meetings
from bot.services.errors import ServiceError
from bot.services.members import load_principal
from tests.integration.month_world import NOW, RUBRIC

async def main(url, draft, tg):
    draft["held_on"] = date.fromisoformat(draft["held_on"])
    engine = create_engine(url)
    async with session_factory(engine)() as s:
        who = await load_principal(s, tg, frozenset())
        try:
            await meetings.save_meeting(s, RUBRIC, who, NOW, meetings.MeetingDraft(**draft))
            await s.commit()
            print("saved")
        except ServiceError as err:
            print(err.code)
    await engine.dispose()

asyncio.run(main(sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])))
"""


async def _world(engine: AsyncEngine):
    async with session_factory(engine)() as s:
        w = await month_world.build(s)
        await s.commit()
        return w


async def _count(engine: AsyncEngine) -> int:
    async with session_factory(engine)() as s:
        return (await s.execute(select(func.count(Meeting.id)))).scalar_one()


async def test_two_saves_at_once_store_one_meeting(engine):
    w = await _world(engine)
    draft = w.draft()

    async def save() -> str:
        async with session_factory(engine)() as s:
            who = await load_principal(s, SECRETARY_TG, frozenset())
            try:
                await meetings.save_meeting(s, RUBRIC, who, NOW, draft)
                await s.commit()
                return "saved"
            except ServiceError as err:
                await s.rollback()
                return err.code

    outcomes = sorted(await asyncio.gather(save(), save()))
    assert outcomes == ["meeting.duplicate", "saved"]
    assert await _count(engine) == 1


async def test_two_processes_save_at_once_store_one_meeting(engine):
    if engine.dialect.name != "postgresql":
        return  # SQLite serialises writers in one file; the two-task test covers it
    w = await _world(engine)
    draft = asdict(w.draft())
    draft["held_on"] = draft["held_on"].isoformat()
    args = [sys.executable, "-c", SAVE, PG_URL, json.dumps(draft), str(SECRETARY_TG)]
    procs = [
        await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE)
        for _ in range(2)
    ]
    results = await asyncio.gather(*(p.communicate() for p in procs))
    outs = sorted(out.decode().strip().splitlines()[-1] for out, _err in results)
    assert outs == ["meeting.duplicate", "saved"]
    assert await _count(engine) == 1
