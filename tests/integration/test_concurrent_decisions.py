"""Two people deciding on the same record at once (issue 8, item 13): two tasks, two
sessions, each naming the version both were shown; exactly one decision is applied and
the other is refused as stale, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.engine import session_factory
from bot.db.models import AuditLog, Evidence, Meeting, Member
from bot.services import evidence, meetings, members
from bot.services.errors import ServiceError
from bot.services.members import load_principal
from tests.integration import month_world
from tests.integration.month_world import NOW, RUBRIC, SECRETARY_TG, STAFF_TG


async def _world(engine: AsyncEngine):
    async with session_factory(engine)() as s:
        w = await month_world.build(s)
        saved = await meetings.save_meeting(
            s, RUBRIC, await w.principal(s, SECRETARY_TG), NOW, w.draft()
        )
        await s.commit()
        return w, saved.meeting.id


async def _twice(engine: AsyncEngine, act) -> list[str]:
    async def once(arg) -> str:
        async with session_factory(engine)() as s:
            try:
                await act(s, arg)
                await s.commit()
                return "done"
            except ServiceError as err:
                await s.rollback()
                return err.code

    return sorted(await asyncio.gather(once(0), once(1)))


async def _scalar(engine: AsyncEngine, stmt):
    async with session_factory(engine)() as s:
        return await s.scalar(stmt)


async def test_two_role_changes_on_one_card(engine):
    w, _meeting = await _world(engine)
    li = w.people["李四"].id

    shown = await _scalar(engine, select(Member.version).where(Member.id == li))

    async def appoint_shown(s, i):
        member = await s.get(Member, li)
        who = await load_principal(s, STAFF_TG, frozenset())
        role = ("secretary", "organiser")[i]
        await members.set_role(s, who.actor, NOW, member, role, version=shown)

    assert await _twice(engine, appoint_shown) == ["done", "record.stale"]
    assert await _scalar(engine, select(Member.version).where(Member.id == li)) == shown + 1
    roles = select(func.count()).where(AuditLog.entity == "member", AuditLog.entity_id == li)
    assert await _scalar(engine, roles.where(AuditLog.action == "role")) == 1


async def test_two_deletions_of_one_meeting(engine):
    _w, meeting_id = await _world(engine)

    async def delete(s, _i):
        who = await load_principal(s, SECRETARY_TG, frozenset())
        await meetings.delete_meeting(s, who, NOW, meeting_id, version=0)

    outcomes = await _twice(engine, delete)
    # The second either waited for the first and found the row gone, or came after it.
    assert outcomes == ["done", "meeting.not_found"]
    assert await _scalar(engine, select(func.count(Meeting.id))) == 0
    deleted = select(func.count()).where(AuditLog.entity == "meeting", AuditLog.action == "delete")
    assert await _scalar(engine, deleted) == 1


async def test_two_grades_on_one_view(engine):
    w, _meeting = await _world(engine)
    item = "four_two_procedure"
    async with session_factory(engine)() as s:
        shown = await evidence.item_version(s, RUBRIC, w.branch, item, "2026-07")
    assert shown == 0

    async def grade(s, i):
        who = await load_principal(s, STAFF_TG, frozenset())
        await evidence.record_evidence(
            s, RUBRIC, who, NOW, w.branch.id, item, grade="AC"[i], version=shown
        )

    assert await _twice(engine, grade) == ["done", "record.stale"]
    rows = select(func.count()).where(Evidence.org_id == w.branch.id, Evidence.key == item)
    assert await _scalar(engine, rows) == 1
